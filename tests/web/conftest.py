"""Fixtures of the workbench tests: an app per test on SQLite or a throwaway PostgreSQL, users,
a live ``culprit serve`` subprocess, and the case bundle as a zip.

PostgreSQL: the Debian binaries under ``/usr/lib/postgresql/*/bin`` run ``initdb`` into a temp dir
(as ``nobody`` when the tests run as root, as CI does) and serve on a free localhost port for the
test session; each test gets a fresh database. Tests skip with the reason when the binaries are
absent (``scripts/system-packages.txt`` lists ``postgresql``).
"""

from __future__ import annotations

import contextlib
import glob
import io
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import case_path

try:  # without the web extra every test module here skips itself with this reason
    from fastapi.testclient import TestClient

    from culprit.web import services
    from culprit.web.app import create_app
    from culprit.web.config import Settings

    WEB_MISSING = ""
except ImportError as e:  # pragma: no cover - depends on the install
    WEB_MISSING = f"the web extra or httpx is not installed (pip install 'culprit[web,test]'): {e}"

ROOT = Path(__file__).resolve().parents[2]
CASE = "kb4474419-registry-denied"
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def zip_folder(folder: Path) -> bytes:
    """The folder as a zip whose members start with the folder's name (as Explorer's 'Send to zip' does)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, f"{folder.name}/{p.relative_to(folder).as_posix()}")
    return buf.getvalue()


@pytest.fixture(scope="session")
def case_zip() -> bytes:
    return zip_folder(case_path(CASE, "bad"))


# --- PostgreSQL --------------------------------------------------------------------------------------


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@dataclass
class PgServer:
    host: str
    port: int
    user: str

    def url(self, db: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{db}"

    def create_db(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return name


def _private_mounts_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True)
    return r.returncode == 0


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries not installed (Debian postgresql, scripts/system-packages.txt)"
        )
    pytest.importorskip("psycopg", reason="psycopg (web extra) is not installed")
    base = Path(tempfile.mkdtemp(prefix="culprit-pg-"))
    data, sock, log = base / "data", base / "sock", base / "pg.log"
    sock.mkdir()
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    if as_root:
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as an unprivileged user")
        prefix = [runuser, "-u", "nobody", "--"]
        if _private_mounts_work():
            # Some sandboxes replace /dev/null with a plain root-only file now and then: give
            # PostgreSQL (which writes to /dev/null) a real one in a private mount namespace,
            # leaving the machine's own untouched.
            node = str(base / "null")
            prefix = [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                '{ [ -c "$0" ] || mknod -m 666 "$0" c 1 3; } && mount --bind "$0" /dev/null && exec "$@"',
                node,
                *prefix,
            ]
        os.chmod(base, 0o755)
        shutil.chown(base, "nobody")
        shutil.chown(sock, "nobody")
    port = free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    init = subprocess.run(
        [
            *prefix,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "culprit",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=base,
    )
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        if not stat.S_ISCHR(os.stat("/dev/null").st_mode):
            pytest.skip(
                "this machine's /dev/null is not a device and no private mount namespace is allowed, "
                "so PostgreSQL cannot start here"
            )
        pytest.fail(f"initdb failed:\n{init.stdout[-1500:]}\n{init.stderr[-1500:]}")
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    start = subprocess.run(
        [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w", "start"],
        capture_output=True,
        text=True,
        env=env,
        cwd=base,
    )
    if start.returncode != 0:
        why = log.read_text(errors="replace")[-2000:] if log.exists() else start.stderr[-2000:]
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start:\n{why}")
    try:
        yield PgServer("127.0.0.1", port, "culprit")
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            env=env,
            cwd=base,
        )
        shutil.rmtree(base, ignore_errors=True)


# --- in-process app ----------------------------------------------------------------------------------


@dataclass
class Bench:
    """An app under test with its TestClient and a way to make users."""

    client: TestClient
    settings: Settings

    @property
    def app(self):  # type: ignore[no-untyped-def]
        return self.client.app

    def add_user(self, name: str, role: str = "engineer") -> None:
        with self.app.state.db() as db:
            services.add_user(db, name, PASSWORD, role)
            db.commit()

    def token(self, name: str) -> dict[str, str]:
        r = self.client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def login(self, name: str) -> TestClient:
        """A second client with a browser session of ``name`` (cookies), logged in through the form."""
        c = TestClient(self.app)
        c.get("/login")
        r = c.post(
            "/login",
            data={
                "username": name,
                "password": PASSWORD,
                "csrf_token": c.cookies["culprit_login_csrf"],
                "next": "/",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        return c

    def wait_job(self, number: str, job_id: int, headers: dict[str, str], timeout: float = 60) -> dict:
        end = time.monotonic() + timeout
        while True:
            j = self.client.get(f"/api/v1/cases/{number}/jobs/{job_id}", headers=headers).json()
            if j["state"] in ("done", "failed") or time.monotonic() > end:
                return j
            time.sleep(0.1)


@contextlib.contextmanager
def make_bench(tmp_path: Path, database_url: str | None = None) -> Iterator[Bench]:
    s = Settings(data_dir=tmp_path / "data", database_url=database_url, workers=2)
    app = create_app(s)
    with TestClient(app) as c:
        yield Bench(c, s)


@pytest.fixture(params=["sqlite", "postgresql"])
def bench(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bench]:
    """The app on SQLite, then on a fresh PostgreSQL database."""
    url = None
    if request.param == "postgresql":
        pg: PgServer = request.getfixturevalue("pg_server")
        url = pg.url(pg.create_db())
    with make_bench(tmp_path, url) as b:
        yield b


@pytest.fixture
def sqlite_bench(tmp_path: Path) -> Iterator[Bench]:
    with make_bench(tmp_path) as b:
        yield b


# --- live server -------------------------------------------------------------------------------------


@dataclass
class Live:
    base: str
    data_dir: Path
    log: Path


def _culprit(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "culprit", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """``culprit serve`` in a subprocess on a free port; users alice, bob (engineers) and root (admin)."""
    d = tmp_path_factory.mktemp("live")
    env = {**os.environ, "CULPRIT_DATA_DIR": str(d / "data"), "PYTHONUNBUFFERED": "1"}
    env.pop("CULPRIT_DATABASE_URL", None)
    for name, role in (("root", "admin"), ("alice", "engineer"), ("bob", "engineer")):
        r = _culprit(
            "serve", "--add-user", name, "--role", role, "--password-stdin", env=env, stdin=PASSWORD + "\n"
        )
        assert r.returncode == 0, r.stderr
    port = free_port()
    log = d / "serve.log"
    with log.open("w") as lf:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "culprit",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            stdout=lf,
            stderr=subprocess.STDOUT,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        end = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"culprit serve did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield Live(base, d / "data", log)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
