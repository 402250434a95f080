"""Alembic migrations of the dspo store; run them with `Store.upgrade()` (`dspo db upgrade`)."""
