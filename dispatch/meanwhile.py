"""What the field and the office changed while a re-plan's optimiser ran: it wins over the solution.

A re-plan reads the district's day (``dispatch.live_state``), solves for seconds,
then writes (``dispatch.replan``). Meanwhile couriers scan parcels, nurses set
off, patients cancel, and another district's re-plan may rewrite a worker both
districts share. Read again under the row locks (``dispatch.locks``), that is:

- **held**: an order under way with one route (a parcel in its courier's bag, or a
  stop reported while solving) goes on no other route and is never dropped;
- **reported**: a stop reported while solving is fixed now: it is not planned again
  (no second pickup for a parcel in hand);
- **live**: only orders still to be served get stops (not one cancelled meanwhile);
- **changed**: an order whose stops still to do are no longer where the day was
  read (another writer moved, added or finished them) is left as that writer left it.
"""
from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from sqlalchemy import select

from dispatch.live_state import CLOSED_STOP, REPLANNED, TASK_STOPS
from dispatch.models import Route, Stop
from doorstep.db import session
from orders.models import Order
from orders.states import PLANNABLE

if TYPE_CHECKING:
    from dispatch.live_state import DistrictDay


class Meanwhile:
    """The facts above, for one re-plan's write; see the module's docstring."""

    def __init__(self, ours: set[int], held: dict[int, int], reported: set[tuple[int, str, int]],
                 live: set[int], changed: set[int]) -> None:
        self.ours, self.held, self.reported, self.live, self.changed = ours, held, reported, live, changed

    @classmethod
    def read(cls, state: DistrictDay, orders: dict[int, Order], stops: list[Stop]) -> Meanwhile:
        """From the locked ``orders`` and scope ``stops`` (``dispatch.locks``), against the day as read."""
        ours = set(state.index.orders.values())
        held = dict(state.in_hand)
        reported: set[tuple[int, str, int]] = set()
        for stop in stops:
            if stop.id in state.planned_stops and stop.status != "planned" and stop.order_id is not None:
                held[stop.order_id] = stop.route_id
                reported.add((stop.route_id, stop.type, stop.order_id))
        live = {o.id for o in orders.values() if o.status == PLANNABLE[o.kind] or o.status in REPLANNED}
        now = {order_id: route_id for order_id, route_id, _worker_id
               in _open_task_stops(state.plan.id, ours | set(state.where))}
        changed = {o for o in ours | set(state.where) if now.get(o) != state.where.get(o)}
        return cls(ours, held, reported, live, changed)

    def may_plan(self, route: Route, type_: str, order_id: int | None) -> bool:
        """May the solution put this stop on ``route``? (Stops without an order always may.)"""
        if order_id is None:
            return True
        return (order_id in self.live and order_id not in self.changed
                and self.held.get(order_id, route.id) == route.id and (route.id, type_, order_id) not in self.reported)

    def keeps(self, stop: Stop) -> bool:
        """Does a planned stop the solution did not place stay where it is?"""
        order_id = stop.order_id
        return order_id is not None and (order_id not in self.ours or order_id in self.held
                                         or order_id in self.changed)


def planned_now(plan_id: int) -> dict[int, int]:
    """Order id -> worker id of every task stop still to do on the plan's routes (flush first)."""
    return {order_id: worker_id for order_id, _route_id, worker_id in _open_task_stops(plan_id)}


def routes_holding(plan_id: int, order_ids: Collection[int]) -> dict[int, set[int]]:
    """Order id -> ids of the routes with a task stop of it still to do (flush first)."""
    held: dict[int, set[int]] = {}
    for order_id, route_id, _worker_id in _open_task_stops(plan_id, order_ids):
        held.setdefault(order_id, set()).add(route_id)
    return held


def _open_task_stops(plan_id: int, order_ids: Collection[int] | None = None) -> list[tuple[int, int, int]]:
    """(order id, route id, worker id) of each task stop not done or failed on the plan's routes, by
    stop id; only these orders' when ``order_ids`` is given."""
    query = (select(Stop.order_id, Route.id, Route.worker_id).join(Route, Stop.route_id == Route.id)
             .where(Route.plan_id == plan_id, Stop.order_id.is_not(None), Stop.type.in_(TASK_STOPS),
                    Stop.status.not_in(CLOSED_STOP)).order_by(Stop.id))
    if order_ids is not None:
        if not order_ids:
            return []
        query = query.where(Stop.order_id.in_(sorted(order_ids)))
    return [(order_id, route_id, worker_id) for order_id, route_id, worker_id in session.execute(query)]
