"""OR-Tools search parameters shared by every phase of a solve.

OR-Tools builds its local search operators, and their neighbour lists, once:
when the model is closed, at its first solve. Later solves on the same model
(guided local search, each ruin and recreate step) take their metaheuristic
and limits from their own parameters but keep the first solve's operators,
whatever their own parameters say. So every phase asks for its parameters here,
and the operator settings live in one place.
"""

from __future__ import annotations

from ortools.constraint_solver import pywrapcp
from ortools.util import optional_boolean_pb2

NEIGHBOURS_RATIO, NEIGHBOURS_MIN = 1.0, 1
"""Moves are tried with this share of each node's nearest nodes (OR-Tools' default: all).
Measured on the 12 Solomon instances at 10 s, set at the first solve: 0.3 gave a mean gap
of 23.5 % (the first plan and guided local search starve), against 1.2-1.6 % with all."""
OPERATORS_OFF: tuple[str, ...] = ()
"""OR-Tools' local search operators left out (names without ``use_``). Leaving out the five
insertion-heuristic LNS operators made no difference beyond run-to-run noise (1.73 % and
1.56 % mean gap on the same 12 instances)."""


def search_parameters(metaheuristic: int) -> pywrapcp.DefaultRoutingSearchParameters:
    """Default parameters with ``metaheuristic`` and the operator settings above."""
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.local_search_metaheuristic = metaheuristic
    params.ls_operator_neighbors_ratio = NEIGHBOURS_RATIO
    params.ls_operator_min_neighbors = NEIGHBOURS_MIN
    for name in OPERATORS_OFF:
        setattr(params.local_search_operators, f"use_{name}", optional_boolean_pb2.BOOL_FALSE)
    return params
