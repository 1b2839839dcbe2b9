"""A small MediaGoblin-like host: core tables, a declarative Base, an Alembic environment."""
