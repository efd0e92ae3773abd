"""Alembic environment for the workbench: online only, on the connection ``culprit.web.db`` hands in."""

from __future__ import annotations

from alembic import context

from culprit.web.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only ``culprit.web.db.migrate`` runs these migrations
    raise RuntimeError("run the workbench migrations through culprit.web.db.migrate()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
