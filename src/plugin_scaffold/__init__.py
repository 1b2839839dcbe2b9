"""plugin-scaffold: plugins that own their tables and their Alembic branch in a host application."""

__version__ = "0.1.0"
