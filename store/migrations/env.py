"""Alembic environment for the dspo store.

There is no alembic.ini: `Store.upgrade()` builds the Alembic config in code and hands its
own open connection over in `config.attributes["connection"]`, so migrations run with the
same engine settings (SQLite pragmas, psycopg driver, search_path) as the application.
SQLite cannot ALTER most things in place, so autogenerate renders batch operations there.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from store.schema import Base

config = context.config


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("dspo migrations run online only: use Store.upgrade() or dspo db upgrade")

_connection = config.attributes.get("connection")
if _connection is None:
    raise RuntimeError("pass an open connection in config.attributes['connection']")
run_migrations(_connection)
