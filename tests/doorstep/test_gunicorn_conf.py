"""The web process's gunicorn settings (gunicorn.conf.py): sized by the environment, no access log."""
from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def test_defaults_follow_the_cores(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("WEB_CONCURRENCY", "WEB_THREADS", "PORT", "WEB_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    conf = runpy.run_path(str(CONF))
    assert conf["workers"] == 2 * (os.cpu_count() or 1)
    assert (conf["worker_class"], conf["threads"], conf["bind"]) == ("gthread", 4, "0.0.0.0:8000")
    assert conf["accesslog"] is None  # query strings can carry a patient's phone


def test_the_environment_sizes_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("WEB_THREADS", "8")
    monkeypatch.setenv("PORT", "5005")
    conf = runpy.run_path(str(CONF))
    assert (conf["workers"], conf["threads"], conf["bind"]) == (3, 8, "0.0.0.0:5005")


def test_gunicorn_accepts_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """gunicorn's own parser reads the file (``--check-config`` loads the settings and the app)."""
    result = subprocess.run([str(Path(sys.executable).parent / "gunicorn"), "-c", str(CONF), "--check-config",
                             "doorstep.wsgi:app"], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "SECRET_KEY": "x" * 40, "DOORSTEP_INSTANCE_PATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
