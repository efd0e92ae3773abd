"""The case workbench: a web app for cases, evidence upload links, analysis jobs and results.

``create_app(settings)`` builds the FastAPI application (server-rendered pages and a JSON API
under ``/api/v1`` with its OpenAPI document at ``/api/openapi.json``). ``culprit serve`` runs it
with uvicorn. Everything here needs the ``web`` extra (``pip install culprit[web]``).

Layout: ``config`` (settings, data dir), ``db`` (engine, Alembic migrations on startup),
``models`` (SQLAlchemy 2 tables), ``security`` (passwords, sessions, CSRF, signed upload links),
``storage`` (content-addressed evidence store, streaming uploads), ``jobs`` (background analysis),
``services`` (the case operations both the pages and the API call), ``integrations`` (reports,
diff), ``app`` and the ``routes_*`` modules (HTTP only).
"""

from __future__ import annotations

from culprit.web.config import Settings

__all__ = ["Settings", "create_app"]


def create_app(settings: Settings | None = None):  # type: ignore[no-untyped-def]
    """Build the workbench application (see :func:`culprit.web.app.create_app`)."""
    from culprit.web.app import create_app as _create

    return _create(settings)
