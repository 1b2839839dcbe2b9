"""The host side: finding the host's Alembic environment (host, its kinds), running its env.py on
the database scaffold names (environment, redirect), and wiring plugins into it (wiring)."""
