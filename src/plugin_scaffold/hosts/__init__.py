"""Config factories for hosts that build their Alembic config in code."""
