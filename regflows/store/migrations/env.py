"""Alembic environment: migrations run on the connection regflows hands over, or on the URL."""

from alembic import context
from sqlalchemy import create_engine

from regflows.store.models import Base

target_metadata = Base.metadata
cfg = context.config


def run() -> None:
    connection = cfg.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(cfg.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
