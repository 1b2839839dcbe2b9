"""A small MediaGoblin-like host application: core tables, a declarative Base, an Alembic environment."""
