"""A host whose env.py must run before its models are imported (Rattail's env.py turns on
SQLAlchemy-Continuum versioning first): each check imports the plugin's models inside a run of
env.py, also when it is the first check of a process and its database is a template's copy
(no env.py run before it)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from test_template_cache import cache, project

__all__ = ["cache"]  # the fixture, shared with test_template_cache

#: One check in a process of its own.
CHECK = textwrap.dedent(
    """
    import sys
    from plugin_scaffold.commands.workspace import Workspace
    from plugin_scaffold.testing import MigrationChecks

    root, name, check = sys.argv[1:4]
    from pathlib import Path
    ws = Workspace.open(config=None, url=None, cwd=Path(root))
    checks = MigrationChecks(ws, name, "sqlite")
    getattr(checks, check)()
    print("passed", check)
    """
)


def test_a_check_imports_the_models_inside_env_py_even_first_in_a_process(
    tmp_path: Path, cache: Path
) -> None:
    root, name, _ = project(tmp_path)
    host = tmp_path / "host"
    package = next(p for p in host.iterdir() if (p / "models.py").is_file())
    (package / "setup.py").write_text("READY = False\n")
    models = package / "models.py"
    models.write_text(
        f"from {package.name} import setup\n"
        "if not setup.READY:\n"
        "    raise RuntimeError('models imported before env.py set them up')\n" + models.read_text()
    )
    env = host / "migrations" / "env.py"
    text = env.read_text()
    line = f"from {package.name}.models import Base"
    assert line in text
    env.write_text(text.replace(line, f"import {package.name}.setup\n"
                                      f"{package.name}.setup.READY = True\n{line}"))  # fmt: skip
    environ = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(host), str(root / "src"), *sys.path]),
    }

    def check(which: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", CHECK, str(root), name, which],
            capture_output=True,
            text=True,
            env=environ,
            timeout=300,
        )

    seeded = check("upgrade_to_heads")  # builds the template the other checks copy
    assert seeded.returncode == 0, seeded.stderr
    for which in ("uninstall", "round_trips", "install_alone"):
        done = check(which)  # first in its process, on a copy: no env.py run before it
        assert done.returncode == 0 and f"passed {which}" in done.stdout, done.stderr[-2000:]


def test_importing_the_models_inside_env_py_touches_no_version_row(
    tmp_path: Path, cache: Path
) -> None:
    import sqlalchemy as sa

    from plugin_scaffold.databases.servers import make_engine, temporary_database
    from test_template_cache import checks_for

    root, name, _ = project(tmp_path)
    checks = checks_for(root, name, "sqlite")
    with temporary_database("sqlite") as url:  # empty: Alembic would make its table here
        assert checks.models_on(url).owns(f"{name}__store_extra")
        engine = make_engine(url)
        with engine.connect() as connection:
            assert sa.inspect(connection).get_table_names() == []
        engine.dispose()
