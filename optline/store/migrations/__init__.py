"""Alembic migrations, run by :meth:`optline.store.Store.open`."""
