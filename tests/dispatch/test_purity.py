"""The optimiser is pure: importing it (and solving) loads no Flask, SQLAlchemy or Celery."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PURE_MODULES = [
    "dispatch.problem",
    "dispatch.validation",
    "dispatch.model",
    "dispatch.search",
    "dispatch.plan",
    "dispatch.diagnose",
    "dispatch.feasibility",
    "dispatch.insertion",
    "dispatch.parameters",
    "dispatch.ruin",
    "dispatch.split",
    "dispatch.decompose",
]
FORBIDDEN = ("flask", "sqlalchemy", "celery")
ROOT = Path(__file__).resolve().parents[2]


def test_the_optimiser_modules_import_no_flask_sqlalchemy_or_celery() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {PURE_MODULES!r}: importlib.import_module(name)\n"
        "from dispatch.search import solve_document\n"
        "doc = json.load(open('tests/data/two_nurses_one_skill.json'))\n"
        "assert solve_document(doc, time_limit_s=1)['status'] == 'solved'\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded = json.loads(result.stdout)
    assert [m for m in loaded if m.split(".")[0] in FORBIDDEN] == []
    assert "dispatch.search" in loaded
