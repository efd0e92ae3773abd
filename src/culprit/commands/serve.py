"""``culprit serve [--host 127.0.0.1] [--port 8765]``: run the case workbench (web app and JSON API).

SQLite and the evidence store live in the user's data dir unless ``--data-dir`` or
``CULPRIT_DATA_DIR`` says otherwise; ``CULPRIT_DATABASE_URL`` points at PostgreSQL. Accounts:
``culprit serve --add-user NAME --role admin`` creates one (the password is asked for, or read
from standard input with ``--password-stdin``) and exits without serving.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from culprit.errors import ExitCode, UsageError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("serve", help="run the case workbench (web app and JSON API)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    p.add_argument("--port", type=int, default=8765, help="port (default: %(default)s)")
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="database (SQLite), evidence store and secret key "
        "(default: $CULPRIT_DATA_DIR or the user's data dir)",
    )
    p.add_argument("--workers", type=int, metavar="N", help="analysis worker threads (default: 2)")
    p.add_argument(
        "--add-user", metavar="NAME", help="create an account and exit (first admin: --role admin)"
    )
    p.add_argument("--create-admin", metavar="NAME", help="same as --add-user NAME --role admin")
    p.add_argument(
        "--role",
        choices=("admin", "engineer", "viewer"),
        default="engineer",
        help="role of the account --add-user creates (default: %(default)s)",
    )
    p.add_argument(
        "--password-stdin", action="store_true", help="read the new account's password from standard input"
    )
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    return p


def _settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    try:
        from culprit.web.config import Settings
    except ImportError as e:  # pragma: no cover - depends on the install
        raise UsageError(f"culprit serve needs the web extra: pip install 'culprit[web]' ({e})") from None
    s = Settings.from_env(Path(args.data_dir) if args.data_dir else None)
    if args.workers:
        if args.workers < 1:
            raise UsageError("--workers must be at least 1")
        s.workers = args.workers
    return s


def _add_user(args: argparse.Namespace, name: str, role: str) -> int:
    from culprit.web import db as dbmod
    from culprit.web import services

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        import getpass

        password = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != password:
            raise UsageError("the passwords differ")
    s = _settings(args)
    s.prepare()
    engine = dbmod.make_engine(s.db_url)
    try:
        dbmod.migrate(engine)
        with dbmod.make_sessionmaker(engine)() as db:
            try:
                u = services.add_user(db, name, password, role)
            except services.Invalid as e:
                raise UsageError(str(e)) from None
            db.commit()
            print(f"created {role} {u.username}", file=sys.stderr)
    finally:
        engine.dispose()
    return ExitCode.OK


def run(args: argparse.Namespace) -> int:
    if args.create_admin:
        return _add_user(args, args.create_admin, "admin")
    if args.add_user:
        return _add_user(args, args.add_user, args.role)
    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port}: not a TCP port")
    try:
        import uvicorn

        from culprit.web.app import create_app
    except ImportError as e:  # pragma: no cover - depends on the install
        raise UsageError(f"culprit serve needs the web extra: pip install 'culprit[web]' ({e})") from None
    app = create_app(_settings(args))
    from sqlalchemy import func, select

    from culprit.web.models import User

    with app.state.db() as db:
        if not db.scalar(select(func.count()).select_from(User)):
            print("no accounts yet: create one with  culprit serve --create-admin NAME", file=sys.stderr)
    print(f"culprit workbench on http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )
    return ExitCode.OK
