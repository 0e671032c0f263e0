"""Settings come from the environment with embedded defaults that need no server."""
from pathlib import Path

import pytest

from doorstep.settings import Settings


def test_without_environment_everything_is_embedded(tmp_path: Path) -> None:
    settings = Settings.from_env({"DOORSTEP_INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'doorstep.db'}"
    assert settings.broker_url.startswith("sqla+sqlite:///")
    assert settings.result_backend.startswith("db+sqlite:///")
    assert settings.uses_embedded_broker
    assert settings.timezone == "Asia/Shanghai"
    assert settings.access_token_minutes == 15


def test_the_embedded_secret_survives_a_restart(tmp_path: Path) -> None:
    first = Settings.from_env({"DOORSTEP_INSTANCE_PATH": str(tmp_path)}).secret_key
    second = Settings.from_env({"DOORSTEP_INSTANCE_PATH": str(tmp_path)}).secret_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_urls_replace_the_embedded_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({
        "DOORSTEP_INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": "postgres://u@db:5432/doorstep",
        "REDIS_URL": "redis://cache:6379/0",
        "SECRET_KEY": "s" * 40,
        "DOORSTEP_TIMEZONE": "Asia/Urumqi",
    })
    assert settings.database_url == "postgresql+psycopg://u@db:5432/doorstep"
    assert settings.broker_url == "redis://cache:6379/0"
    assert settings.result_backend == "redis://cache:6379/0"
    assert not settings.uses_embedded_broker
    assert settings.secret_key == "s" * 40
    assert settings.timezone == "Asia/Urumqi"


def test_a_secret_key_too_short_to_sign_with_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SECRET_KEY: at least 32 bytes"):
        Settings.from_env({"DOORSTEP_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "bench-secret"})
    assert Settings.from_env({"DOORSTEP_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k" * 32}).secret_key == "k" * 32
