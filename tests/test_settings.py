"""Settings read the environment, reject malformed values loudly, and pass check --deploy in production."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY")}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_production_mode_passes_the_deploy_check(tmp_path):
    static_root = tmp_path / "static"  # as after `manage.py collectstatic` (common.W001 checks the manifest)
    static_root.mkdir()
    (static_root / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')
    out = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="k" * 20 + "x7Q!pz09-Lm3vB8nR2yT5wE1aS4dF6gH",
        ALLOWED_HOSTS="murmuration.example.org",
        MURMURATION_VAR_DIR=str(tmp_path),
        STATIC_ROOT=str(static_root),
    )
    assert out.returncode == 0, out.stderr
    assert "no issues" in out.stdout


def test_the_deploy_check_says_to_run_collectstatic(tmp_path):
    out = manage(
        "check",
        "--deploy",
        DEBUG="0",
        SECRET_KEY="k" * 20 + "x7Q!pz09-Lm3vB8nR2yT5wE1aS4dF6gH",
        ALLOWED_HOSTS="murmuration.example.org",
        MURMURATION_VAR_DIR=str(tmp_path),
    )
    assert "common.W001" in out.stderr + out.stdout and "collectstatic" in out.stderr + out.stdout


def test_production_mode_refuses_to_start_without_a_secret_key(tmp_path):
    out = manage("check", DEBUG="0", MURMURATION_VAR_DIR=str(tmp_path))
    assert out.returncode != 0 and "SECRET_KEY must be set when DEBUG is off" in out.stderr


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("DATABASE_URL", "mysql://db/x", "only postgres:// and sqlite:// are supported"),
        ("DATABASE_URL", "postgres://db:5432/", "names no database"),
        ("REDIS_URL", "http://cache:6379", "is not a redis://host:port/db URL"),
        ("DEBUG", "maybe", "is not a boolean"),
        ("Q_WORKERS", "two", "is not a whole number"),
    ],
)
def test_it_rejects_malformed_values_by_name(tmp_path, name, value, message):
    out = manage("check", MURMURATION_VAR_DIR=str(tmp_path), **{name: value})
    assert out.returncode != 0
    assert f"{name}=" in out.stderr and message in out.stderr


def test_database_and_redis_urls_switch_the_backends():
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], "
        "'redis' in s.Q_CLUSTER, s.CHANNEL_LAYERS['default']['BACKEND'])"
    )
    out = manage(
        "shell",
        "-v",
        "0",
        "-c",
        code,
        DATABASE_URL="postgres://u:p@db.internal:5433/murm",
        REDIS_URL="redis://cache:6379/2",
    )
    assert out.stdout.split() == [
        "django.db.backends.postgresql",
        "murm",
        "True",
        "channels_redis.core.RedisChannelLayer",
    ]
    out = manage("shell", "-v", "0", "-c", code)
    assert out.stdout.split()[0] == "django.db.backends.sqlite3" and out.stdout.split()[2:] == [
        "False",
        "channels.layers.InMemoryChannelLayer",
    ]
