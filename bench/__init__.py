"""Benchmarks: run from the repository root as ``python -m bench.NAME``.

Plans are checked by the copy of the independent plan checker the tests use
(``tests/dispatch/check_plan.py``), so there is one copy to keep in step.
"""
