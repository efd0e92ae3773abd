"""Workbench settings: where the database, the evidence store and the secret key live.

Defaults are for the embedded single-machine install: SQLite and the evidence store in the
user's data dir (``$CULPRIT_DATA_DIR``, else ``%LOCALAPPDATA%\\culprit`` on Windows,
``$XDG_DATA_HOME/culprit`` or ``~/.local/share/culprit`` elsewhere). ``CULPRIT_DATABASE_URL``
points the app at PostgreSQL (``postgresql+psycopg://user@host/db``; a bare ``postgresql://``
URL is read as psycopg 3).
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path


def default_data_dir() -> Path:
    """The per-user data folder of the workbench (not created here)."""
    env = os.environ.get("CULPRIT_DATA_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "culprit"
    xdg = os.environ.get("XDG_DATA_HOME")
    return Path(xdg) / "culprit" if xdg else Path.home() / ".local" / "share" / "culprit"


def normalize_db_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` / ``postgres://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass
class Settings:
    """Everything the app needs to start; build with :meth:`from_env` in production.

    Attributes:
        data_dir: folder for the SQLite file, the evidence store and the secret key.
        database_url: SQLAlchemy URL; SQLite in ``data_dir`` when None.
        secret_key: signs upload links; read from ``data_dir/secret.key`` (created once) when None.
        workers: analysis worker threads.
        max_upload_bytes: largest single upload accepted.
        session_hours: how long a login lasts.
        secure_cookies: mark cookies Secure (behind HTTPS).
        login_failures: failed logins per user name (or address) before logins pause.
        login_window_s: the window those failures are counted in, and the pause.
    """

    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str | None = None
    secret_key: str | None = None
    workers: int = 2
    max_upload_bytes: int = 16 * 1024**3
    session_hours: float = 12.0
    secure_cookies: bool = False
    login_failures: int = 10
    login_window_s: float = 900.0

    @classmethod
    def from_env(cls, data_dir: Path | None = None) -> Settings:
        """Settings from ``CULPRIT_DATA_DIR``, ``CULPRIT_DATABASE_URL``, ``CULPRIT_SECRET_KEY``,
        ``CULPRIT_WORKERS`` and ``CULPRIT_SECURE_COOKIES``."""
        s = cls(data_dir=data_dir or default_data_dir())
        s.database_url = os.environ.get("CULPRIT_DATABASE_URL") or None
        s.secret_key = os.environ.get("CULPRIT_SECRET_KEY") or None
        w = os.environ.get("CULPRIT_WORKERS", "")
        if w.isdigit() and int(w) > 0:
            s.workers = int(w)
        s.secure_cookies = os.environ.get("CULPRIT_SECURE_COOKIES", "") in ("1", "true", "yes")
        return s

    @property
    def db_url(self) -> str:
        if self.database_url:
            return normalize_db_url(self.database_url)
        return f"sqlite:///{self.data_dir / 'culprit.db'}"

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"

    def prepare(self) -> None:
        """Create the data folders and the secret key file (mode 0600) if missing."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if self.secret_key is None:
            kf = self.data_dir / "secret.key"
            if not kf.exists():
                try:
                    fd = os.open(kf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except FileExistsError:
                    pass
                else:
                    with os.fdopen(fd, "w") as f:
                        f.write(secrets.token_urlsafe(48))
            self.secret_key = kf.read_text().strip()
