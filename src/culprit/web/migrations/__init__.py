"""Alembic migrations of the workbench schema, run programmatically on startup (``culprit.web.db``)."""
