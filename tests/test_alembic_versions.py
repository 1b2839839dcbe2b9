"""What depends on the Alembic version: pyproject.toml's [tool.alembic] needs Alembic >= 1.16.

The compat session runs this file on Alembic 1.12, the tests session on the newest: the same
host is refused in one line on the old, and works on the new.
"""

from __future__ import annotations

from pathlib import Path

import alembic

from conftest import run_scaffold

OLD = tuple(int(p) for p in alembic.__version__.split(".")[:2]) < (1, 16)

ENV = """
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config


def run_migrations_online():
    engine = engine_from_config(config.get_section(config.config_ini_section, {}),
                                prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"""

REVISION = """
revision = "aaaa00000001"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
"""


def test_pyproject_host_needs_alembic_1_16(tmp_path: Path) -> None:
    # As `alembic init -t pyproject` writes it (written by hand: Alembic 1.13 cannot generate it)
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "migrations" / "env.py").write_text(ENV)
    (tmp_path / "migrations" / "versions" / "aaaa00000001_core.py").write_text(REVISION)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "acme"\nversion = "0.1"\n\n'
        '[tool.alembic]\nscript_location = "%(here)s/migrations"\n'
    )
    (tmp_path / "alembic.ini").write_text(
        f"[alembic]\nsqlalchemy.url = sqlite:///{tmp_path / 'acme.db'}\n"
    )
    pyproject = tmp_path / "pyproject.toml"
    result = run_scaffold("-c", str(pyproject), "heads", cwd=tmp_path, check=None)
    if OLD:
        assert result.returncode == 2, result.stderr
        assert result.stderr == (
            f"scaffold: error: {pyproject}: [tool.alembic] needs Alembic >= 1.16 "
            f"(installed: {alembic.__version__})\n"
        )
    else:
        assert result.returncode == 0, result.stderr
        assert "aaaa00000001 (core) (head)" in result.stdout
