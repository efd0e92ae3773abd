"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL;
``culprit serve --add-user`` and its errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.web import conftest as _web

if _web.WEB_MISSING:
    pytest.skip(_web.WEB_MISSING, allow_module_level=True)

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from culprit.web import db as dbmod
from culprit.web import services
from culprit.web.models import STATUSES, TRANSITIONS, Base, Case
from tests.web.conftest import PASSWORD, PgServer


def _check(url: str) -> None:
    engine = dbmod.make_engine(url)
    try:
        dbmod.migrate(engine)
        dbmod.migrate(engine)  # idempotent
        assert dbmod.current_revision(engine) == "0001"
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
        assert diff == []
        names = set(inspect(engine).get_table_names())
        assert {
            "users",
            "auth_sessions",
            "cases",
            "case_members",
            "activity",
            "upload_links",
            "blobs",
            "evidence",
            "jobs",
            "alembic_version",
        } <= names
    finally:
        engine.dispose()


def test_migrations_match_models_sqlite(tmp_path: Path) -> None:
    _check(f"sqlite:///{tmp_path / 'w.db'}")


def test_migrations_match_models_postgresql(pg_server: PgServer) -> None:
    _check(pg_server.url(pg_server.create_db()))


def test_lifecycle_table_is_closed() -> None:
    assert set(TRANSITIONS) == set(STATUSES)
    for src, targets in TRANSITIONS.items():
        assert src not in targets and set(targets) <= set(STATUSES)
    assert TRANSITIONS["archived"] == ()


def test_case_numbers() -> None:
    import re

    seen = {services.new_number() for _ in range(2000)}
    assert len(seen) == 2000
    assert all(re.fullmatch(r"CAS-\d{5}-[0-9A-HJKMNP-TV-Z]{6}", n) for n in seen)
    assert Case.__table__.c.number.unique


def _culprit(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "culprit", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_serve_add_user_cli(tmp_path: Path) -> None:
    env = {**os.environ, "CULPRIT_DATA_DIR": str(tmp_path / "d")}
    env.pop("CULPRIT_DATABASE_URL", None)
    r = _culprit(["serve", "--create-admin", "root", "--password-stdin"], env, PASSWORD + "\n")
    assert r.returncode == 0 and r.stderr.strip() == "created admin root"
    key = tmp_path / "d" / "secret.key"
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_text()) >= 48
    r = _culprit(["serve", "--add-user", "root", "--password-stdin"], env, PASSWORD + "\n")
    assert r.returncode == 2 and r.stderr.strip() == "culprit: user 'root' exists"
    r = _culprit(["serve", "--add-user", "pat", "--password-stdin"], env, "short\n")
    assert r.returncode == 2 and "at least 8 characters" in r.stderr
    r = _culprit(["serve", "--port", "70000"], env)
    assert r.returncode == 2 and "not a TCP port" in r.stderr
    assert "Traceback" not in r.stderr
    engine = dbmod.make_engine(f"sqlite:///{tmp_path / 'd' / 'culprit.db'}")
    with dbmod.make_sessionmaker(engine)() as db:
        u = services.authenticate(db, "root", PASSWORD)
        assert u is not None and u.role == "admin"
    engine.dispose()


def test_settings_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from culprit.web.config import Settings, default_data_dir, normalize_db_url

    monkeypatch.delenv("CULPRIT_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if sys.platform != "win32":
        assert default_data_dir() == tmp_path / "xdg" / "culprit"
    monkeypatch.setenv("CULPRIT_DATA_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("CULPRIT_DATABASE_URL", "postgresql://u@db:5432/culprit")
    monkeypatch.setenv("CULPRIT_WORKERS", "3")
    monkeypatch.setenv("CULPRIT_SECRET_KEY", "k" * 40)
    s = Settings.from_env()
    assert s.data_dir == tmp_path / "mine" and s.workers == 3 and s.secret_key == "k" * 40
    assert s.db_url == "postgresql+psycopg://u@db:5432/culprit"
    assert normalize_db_url("postgres://x/y") == "postgresql+psycopg://x/y"
    assert normalize_db_url("sqlite:///a.db") == "sqlite:///a.db"
    monkeypatch.delenv("CULPRIT_DATABASE_URL")
    monkeypatch.setenv("CULPRIT_WORKERS", "zero")
    s = Settings.from_env()
    assert s.db_url == f"sqlite:///{tmp_path / 'mine' / 'culprit.db'}" and s.workers == 2


def test_culprit_serve_on_postgresql(pg_server: PgServer, tmp_path: Path) -> None:
    """What an operator does: CULPRIT_DATABASE_URL at PostgreSQL, first admin, serve, use the API."""
    import httpx

    from tests.web.conftest import free_port

    url = pg_server.url(pg_server.create_db()).replace("postgresql+psycopg://", "postgresql://")
    env = {**os.environ, "CULPRIT_DATA_DIR": str(tmp_path / "d"), "CULPRIT_DATABASE_URL": url}
    r = _culprit(["serve", "--create-admin", "root", "--password-stdin"], env, PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "d" / "culprit.db").exists()  # nothing went to SQLite
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "culprit", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import time

        for _ in range(150):
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.2)
        tok = httpx.post(base + "/api/v1/auth/token", json={"username": "root", "password": PASSWORD}).json()[
            "token"
        ]
        h = {"Authorization": f"Bearer {tok}"}
        case = httpx.post(base + "/api/v1/cases", json={"title": "pg", "customer": "c"}, headers=h).json()
        assert [c["number"] for c in httpx.get(base + "/api/v1/cases", headers=h).json()] == [case["number"]]
    finally:
        proc.terminate()
        proc.wait(20)
