"""The routing modules stay importable by the optimiser: no web, ORM or queue."""

import json
import subprocess
import sys
from pathlib import Path

PURE_MODULES = ["routing.geo", "routing.matrix", "routing.districts", "routing.crs", "routing.eta",
                "routing.engines", "routing.cache", "routing.travel", "routing.tables_json",
                "routing.geocode"]
FORBIDDEN = ("flask", "sqlalchemy", "celery", "doorstep")


def test_routing_modules_import_no_flask_sqlalchemy_or_celery():
    code = (
        "import importlib, json, sys\n"
        f"for name in {PURE_MODULES!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    loaded = json.loads(result.stdout)
    offenders = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert offenders == []
