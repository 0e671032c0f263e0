"""bench.orders_load books under the hospital's own open-order limit, with patients enough for it."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bench.orders_load import _environment, _slices


def _args(**given: object) -> argparse.Namespace:
    values = {"max_rate": 400.0, "orders_per_patient": 2, "warmup": 3, "duration": 15} | given
    return argparse.Namespace(**values)


def test_each_run_books_patients_of_its_own_enough_for_the_rate() -> None:
    # 400/s x 3 s / 2 orders each, then 400/s x 15 s / 2
    assert _slices(_args()) == {"warmup": (1, 600), "timed": (601, 3000)}


def test_a_rate_that_does_not_divide_evenly_rounds_the_patients_up() -> None:
    assert _slices(_args(max_rate=350.0, orders_per_patient=3, warmup=1, duration=1)) == {
        "warmup": (1, 117), "timed": (118, 117)}


def test_the_server_keeps_the_hospitals_default_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)  # SQLite: nothing to create
    monkeypatch.setenv("DOORSTEP_MAX_OPEN_CARE_ORDERS", "1000000")

    assert "DOORSTEP_MAX_OPEN_CARE_ORDERS" not in _environment(tmp_path)
