"""`scaffold wire`/`unwire` on hosts as their generators make them: plain `alembic heads` (or
`flask db heads`) sees the plugin after wire, and unwire gives every byte back."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import run_alembic, run_scaffold
from hostmatrix import GeneratedHost, make_generated_host
from hosts import make_plugin

ROOT_REVISION = '''"""poser's root"""
revision = "poser0000001"
down_revision = None
branch_labels = ("poser",)
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
'''

ADDED = "plugin-scaffold: version_locations added by `scaffold wire`"


# --- hosts, each generated once per module and copied for each test ---------------------------


@pytest.fixture(scope="module")
def poser(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plugin project with one revision that depends on nothing, so any host can take it."""
    root = tmp_path_factory.mktemp("plugin") / "poser"
    make_plugin(root, "poser", host_ini=root.parent / "unused" / "alembic.ini")
    (root / "src/poser/migrations/poser0000001_root.py").write_text(ROOT_REVISION)
    return root


def _plain(project: Path, **extra: str) -> dict[str, str]:
    """The environment of a host developer who installed the plugin."""
    return {"PYTHONPATH": str(project / "src"), **extra}


def _generated(tmp_path_factory: pytest.TempPathFactory, kind: str) -> GeneratedHost:
    return make_generated_host(tmp_path_factory.mktemp(kind) / "host", kind)


@pytest.fixture(scope="module")
def generic(tmp_path_factory: pytest.TempPathFactory) -> GeneratedHost:
    """`alembic init -t generic`."""
    return _generated(tmp_path_factory, "generic")


@pytest.fixture(scope="module")
def pyproject(tmp_path_factory: pytest.TempPathFactory) -> GeneratedHost:
    """`alembic init -t pyproject` (Alembic >= 1.16) beside the app's pyproject.toml."""
    return _generated(tmp_path_factory, "pyproject")


@pytest.fixture(scope="module")
def flask_host(tmp_path_factory: pytest.TempPathFactory) -> GeneratedHost:
    """`flask db init` / `flask db migrate` for a Flask-SQLAlchemy 3 app factory."""
    return _generated(tmp_path_factory, "flask")


def _copy(template: GeneratedHost, tmp_path: Path) -> Path:
    """A host of the test's own, made from the module's generated one."""
    return Path(shutil.copytree(template.root, tmp_path / "host", symlinks=True))


def _bytes(*paths: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in paths}


def _to_crlf(path: Path) -> None:
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


def _no_bare_lf(path: Path) -> bool:
    return b"\n" not in path.read_bytes().replace(b"\r\n", b"")


def _heads(host: Path, project: Path, template: GeneratedHost | None = None) -> str:
    """The host's own `alembic heads` (`flask db heads`), the plugin installed beside it."""
    if template is None:
        result = run_alembic("heads", cwd=host, env=_plain(project))
    else:
        result = replace(template, root=host).tool("heads", path=(project / "src",))
    assert result.returncode == 0, result.stderr
    return result.stdout


# --- Alembic's pyproject configuration ----------------------------------------------------------


@pytest.mark.parametrize("config", ["pyproject.toml", "alembic.ini"])
def test_wire_lists_the_plugin_in_tool_alembic_and_unwire_restores_pyproject(
    pyproject: GeneratedHost, poser: Path, tmp_path: Path, config: str
) -> None:
    host = _copy(pyproject, tmp_path)
    toml, ini, env = host / "pyproject.toml", host / "alembic.ini", host / "migrations/env.py"
    original = _bytes(toml, ini, env)
    assert "(poser)" not in _heads(host, poser)

    wired = run_scaffold("-c", str(host / config), "wire", cwd=poser, env=_plain(poser))
    assert wired.stdout.startswith(f"wired poser: {toml}, {env}"), wired.stdout
    assert "warning" not in wired.stdout
    table = tomllib.loads(toml.read_text())["tool"]["alembic"]
    assert table["version_locations"] == ["%(here)s/migrations/versions", "poser:migrations"]
    assert ini.read_bytes() == original[ini]  # the URL's ini is not where the list lives
    heads = _heads(host, poser)
    assert "(poser) (head)" in heads and len(heads.splitlines()) == 2, heads

    again = run_scaffold("-c", str(host / config), "wire", cwd=poser, env=_plain(poser))
    assert again.stdout.startswith("poser is already wired")

    run_scaffold("-c", str(host / config), "unwire", "poser", cwd=poser)
    assert _bytes(toml, ini, env) == original
    assert "(poser)" not in _heads(host, poser)


def test_wire_appends_to_a_tool_alembic_list_and_unwire_restores_it(
    pyproject: GeneratedHost, poser: Path, tmp_path: Path
) -> None:
    host = _copy(pyproject, tmp_path)
    toml = host / "pyproject.toml"
    (host / "more").mkdir()
    # Alembic's own commented example, made real: a multi-line list, no trailing comma
    toml.write_text(
        toml.read_text().replace(
            '# version_locations = [\n#    "%(here)s/alembic/versions",\n'
            '#    "%(here)s/foo/bar"\n# ]',
            'version_locations = [\n   "%(here)s/migrations/versions",\n   "%(here)s/more"\n]',
        )
    )
    original = toml.read_bytes()
    assert b'"%(here)s/more"\n]' in original

    run_scaffold("-c", str(toml), "wire", cwd=poser, env=_plain(poser))
    assert tomllib.loads(toml.read_text())["tool"]["alembic"]["version_locations"] == [
        "%(here)s/migrations/versions",
        "%(here)s/more",
        "poser:migrations",
    ]
    assert ADDED not in toml.read_text()
    assert "(poser) (head)" in _heads(host, poser)

    run_scaffold("-c", str(toml), "unwire", "poser", cwd=poser)
    assert toml.read_bytes() == original


def test_crlf_pyproject_stays_crlf_through_wire_and_unwire(
    pyproject: GeneratedHost, poser: Path, tmp_path: Path
) -> None:
    host = _copy(pyproject, tmp_path)
    toml, env = host / "pyproject.toml", host / "migrations/env.py"
    _to_crlf(toml)
    _to_crlf(env)
    original = _bytes(toml, env)

    run_scaffold("-c", str(toml), "wire", cwd=poser, env=_plain(poser))
    assert toml.read_bytes() != original[toml] and env.read_bytes() != original[env]
    assert _no_bare_lf(toml) and _no_bare_lf(env)
    assert "(poser) (head)" in _heads(host, poser)

    run_scaffold("-c", str(toml), "unwire", "poser", cwd=poser)
    assert _bytes(toml, env) == original


def _alembic_section_last(text: str, *, newline_list: bool) -> str:
    """The ini with its [alembic] section moved to the end, the option wire edits (or inserts
    after) on the file's last line."""
    start = text.index("[alembic]")
    end = text.index("\n[", start + 1)
    options = text[start:end].strip("\n").splitlines()
    rest = (text[:start] + text[end + 1 :]).strip("\n")
    if newline_list:
        options = [o for o in options if not o.startswith("path_separator")]
        options += [
            "path_separator = newline",
            "version_locations =",
            "    %(here)s/migrations/versions",
        ]
    else:
        options = [o for o in options if not o.startswith("script_location")]
        options += ["script_location = %(here)s/migrations"]
    return rest + "\n\n" + "\n".join(options)


@pytest.mark.parametrize("layout", ["script-location-last", "newline-list-last", "pyproject"])
def test_crlf_file_without_a_final_line_ending_comes_back_byte_for_byte(
    generic: GeneratedHost, pyproject: GeneratedHost, poser: Path, tmp_path: Path, layout: str
) -> None:
    """wire puts a line ending on what was the last line; unwire takes all of it away again:
    the \\r of a CRLF ending too, not only its \\n."""
    host = _copy(pyproject if layout == "pyproject" else generic, tmp_path)
    config = host / ("pyproject.toml" if layout == "pyproject" else "alembic.ini")
    if layout != "pyproject":  # in pyproject.toml, [tool.alembic] is last already
        config.write_text(_alembic_section_last(config.read_text(), newline_list="list" in layout))
    config.write_text(config.read_text().rstrip("\n"))
    _to_crlf(config)
    original = config.read_bytes()
    assert not original.endswith(b"\n")

    run_scaffold("-c", str(config), "wire", cwd=poser, env=_plain(poser))
    wired = config.read_bytes()
    assert wired != original and _no_bare_lf(config) and b"\r\r" not in wired
    assert wired.startswith(original + b"\r\n") or layout == "pyproject", wired[-200:]
    assert "(poser) (head)" in _heads(host, poser)

    run_scaffold("-c", str(config), "unwire", "poser", cwd=poser)
    assert config.read_bytes() == original


# --- Flask-Migrate ------------------------------------------------------------------------------


def test_flask_db_heads_shows_a_wired_plugin_and_unwire_restores_migrations(
    flask_host: GeneratedHost, poser: Path, tmp_path: Path
) -> None:
    host = _copy(flask_host, tmp_path)
    ini, env = host / "migrations/alembic.ini", host / "migrations/env.py"
    original = _bytes(ini, env)
    flask_env = {"FLASK_APP": flask_host.app, "PYTHONPATH": str(host)}

    wired = run_scaffold("-c", str(host / "migrations"), "wire", cwd=poser, env=flask_env)
    assert wired.stdout.startswith(f"wired poser: {ini}, {env}"), wired.stdout
    text = ini.read_text()
    assert f"[alembic]\n# {ADDED}\nversion_locations = %(here)s/versions poser:migrations\n" in text
    heads = _heads(host, poser, flask_host)
    assert "(poser) (head)" in heads and len(heads.splitlines()) == 2, heads

    run_scaffold("-c", str(host / "migrations"), "unwire", "poser", cwd=poser, env=flask_env)
    assert _bytes(ini, env) == original
    assert "poser" not in _heads(host, poser, flask_host)


# --- alembic.ini: what a hand-written ini may look like ----------------------------------------


def _ini_host(
    generic: GeneratedHost, tmp_path: Path, edit: Callable[[str], str]
) -> tuple[Path, Path]:
    host = _copy(generic, tmp_path)
    ini = host / "alembic.ini"
    ini.write_text(edit(ini.read_text()))
    return host, ini


@pytest.mark.parametrize("option", ["Version_Locations = ", "VERSION_LOCATIONS: "])
def test_version_locations_is_found_whatever_its_case(
    generic: GeneratedHost, poser: Path, tmp_path: Path, option: str
) -> None:
    host, ini = _ini_host(
        generic,
        tmp_path,
        lambda t: t.replace(
            "# version_locations = %(here)s/bar:%(here)s/bat:%(here)s/alembic/versions",
            f"{option}%(here)s/migrations/versions",
        ),
    )
    original = ini.read_bytes()
    run_scaffold("-c", str(ini), "wire", cwd=poser, env=_plain(poser))
    text = ini.read_text()
    assert text.lower().count("\nversion_locations") == 1, text
    assert f"{option}%(here)s/migrations/versions:{poser}/src/poser/migrations\n" in text
    assert "(poser) (head)" in _heads(host, poser)
    run_scaffold("-c", str(ini), "unwire", "poser", cwd=poser)
    assert ini.read_bytes() == original


def test_alembic_113_inline_comment_on_path_separator_is_moved_and_put_back(
    generic: GeneratedHost, poser: Path, tmp_path: Path
) -> None:
    # what `alembic init` wrote up to 1.13; Alembic reads the comment as part of the value
    separator = (
        "path_separator = os  # Use os.pathsep. Default configuration used for new projects."
    )
    host, ini = _ini_host(generic, tmp_path, lambda t: t.replace("path_separator = os", separator))
    original = ini.read_bytes()
    run_scaffold("-c", str(ini), "wire", cwd=poser, env=_plain(poser))
    assert "\npath_separator = os\n" in ini.read_text()
    assert "(poser) (head)" in _heads(host, poser)
    run_scaffold("-c", str(ini), "unwire", "poser", cwd=poser)
    assert ini.read_bytes() == original


def test_a_pyproject_host_whose_ini_lists_version_locations_is_wired_there(
    pyproject: GeneratedHost, poser: Path, tmp_path: Path
) -> None:
    # Alembic reads version_locations from the ini first, and [tool.alembic] only without it
    host = _copy(pyproject, tmp_path)
    toml, ini = host / "pyproject.toml", host / "alembic.ini"
    ini.write_text(
        ini.read_text().replace(
            "[alembic]\n",
            "[alembic]\npath_separator = space\nversion_locations = %(here)s/migrations/versions\n",
            1,
        )
    )
    original = _bytes(toml, ini)
    wired = run_scaffold("-c", str(toml), "wire", cwd=poser, env=_plain(poser))
    assert wired.stdout.startswith(f"wired poser: {ini}, "), wired.stdout
    assert toml.read_bytes() == original[toml]
    assert "version_locations = %(here)s/migrations/versions poser:migrations\n" in ini.read_text()
    assert "(poser) (head)" in _heads(host, poser)
    run_scaffold("-c", str(toml), "unwire", "poser", cwd=poser)
    assert _bytes(toml, ini) == original


@pytest.mark.parametrize(
    ("separator", "value"),
    [
        ("os", "%(here)s/migrations/versions:\n    %(here)s/more"),
        ("newline", "\n    %(here)s/migrations/versions\n    %(here)s/more"),
        ("newline", "%(here)s/migrations/versions\n\t%(here)s/more"),
    ],
    ids=["os", "newline", "newline-tab"],
)
def test_unwire_keeps_a_multiline_version_locations_as_it_was(
    generic: GeneratedHost, poser: Path, tmp_path: Path, separator: str, value: str
) -> None:
    host, ini = _ini_host(
        generic,
        tmp_path,
        lambda t: t.replace("path_separator = os", f"path_separator = {separator}").replace(
            "# version_locations = %(here)s/bar:%(here)s/bat:%(here)s/alembic/versions",
            f"version_locations = {value}",
        ),
    )
    (host / "more").mkdir()
    original = ini.read_bytes()
    run_scaffold("-c", str(ini), "wire", cwd=poser, env=_plain(poser))
    assert "(poser) (head)" in _heads(host, poser)
    run_scaffold("-c", str(ini), "unwire", "poser", cwd=poser)
    assert ini.read_bytes() == original


@pytest.mark.parametrize("separator", ["os", "space", "newline", None])
def test_crlf_ini_and_env_py_stay_crlf_through_wire_and_unwire(
    generic: GeneratedHost, poser: Path, tmp_path: Path, separator: str | None
) -> None:
    def edit(text: str) -> str:
        if separator is None:  # an ini from before path_separator: Alembic's legacy splitting
            return text.replace("path_separator = os", "")
        return text.replace("path_separator = os", f"path_separator = {separator}")

    host, ini = _ini_host(generic, tmp_path, edit)
    env = host / "migrations/env.py"
    _to_crlf(ini)
    _to_crlf(env)
    original = _bytes(ini, env)

    run_scaffold("-c", str(ini), "wire", cwd=poser, env=_plain(poser))
    assert _no_bare_lf(ini) and _no_bare_lf(env)
    assert ADDED in ini.read_text() and "plugin-scaffold: wired poser" in env.read_text()
    assert "(poser) (head)" in _heads(host, poser)
    run_scaffold("-c", str(ini), "unwire", "poser", cwd=poser)
    assert _bytes(ini, env) == original


# --- what wire refuses, and what unwire cannot undo -------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("generic", "alembic.ini"),
        ("generic", "migrations/env.py"),
        ("pyproject", "pyproject.toml"),
        ("pyproject", "migrations/env.py"),
    ],
)
def test_a_read_only_file_is_refused_and_nothing_changes(
    request: pytest.FixtureRequest, poser: Path, tmp_path: Path, kind: str, name: str
) -> None:
    host = _copy(request.getfixturevalue(kind), tmp_path)
    config = host / ("alembic.ini" if kind == "generic" else "pyproject.toml")
    env = host / "migrations/env.py"
    original = _bytes(config, env)
    (host / name).chmod(0o444)
    try:
        result = run_scaffold("-c", str(config), "wire", cwd=poser, env=_plain(poser), check=2)
        assert result.stderr == f"scaffold: error: {host / name}: read-only; not edited " + (
            "(nothing was changed)\n"
        )
        assert result.stdout == ""
        assert _bytes(config, env) == original
        assert not (host / name).stat().st_mode & 0o222  # not replaced by a writable file
    finally:
        (host / name).chmod(0o644)


def test_symlinked_env_py_and_ini_are_edited_through_their_links(
    generic: GeneratedHost, poser: Path, tmp_path: Path
) -> None:
    host = _copy(generic, tmp_path)
    shared = tmp_path / "shared"
    shared.mkdir()
    links = {
        host / "alembic.ini": shared / "alembic.ini",
        host / "migrations/env.py": shared / "env.py",
    }
    for link, target in links.items():
        text = link.read_text().replace("%(here)s/migrations", str(host / "migrations"))
        target.write_text(text.replace("sqlite:///%(here)s", f"sqlite:///{host}"))
        link.unlink()
        link.symlink_to(target)
    original = _bytes(*links.values())

    run_scaffold("-c", str(host / "alembic.ini"), "wire", cwd=poser, env=_plain(poser))
    for link, target in links.items():
        assert link.is_symlink() and link.resolve() == target
        assert target.read_bytes() != original[target]
    assert "(poser) (head)" in _heads(host, poser)

    run_scaffold("-c", str(host / "alembic.ini"), "unwire", "poser", cwd=poser)
    assert all(link.is_symlink() for link in links)
    assert _bytes(*links.values()) == original


def test_unwire_names_what_hand_edits_left_behind(
    generic: GeneratedHost, poser: Path, tmp_path: Path
) -> None:
    host = _copy(generic, tmp_path)
    ini, env = host / "alembic.ini", host / "migrations/env.py"
    (host / "mine").mkdir()
    run_scaffold("-c", str(ini), "wire", cwd=poser, env=_plain(poser))
    # the host developer moves the import into a try block, adds a folder of their own to the
    # version_locations that wire added, and keeps a commented-out copy of it
    wired_line = next(line for line in env.read_text().splitlines() if "wired poser" in line)
    env.write_text(
        env.read_text().replace(
            wired_line, f"try:\n    {wired_line}\nexcept ImportError:\n    pass"
        )
    )
    [option] = [line for line in ini.read_text().splitlines() if line.startswith("version_loc")]
    ini.write_text(ini.read_text().replace(option, f"# {option}\n{option}:%(here)s/mine"))

    result = run_scaffold("-c", str(ini), "unwire", "poser", cwd=poser, check=1)
    assert result.stdout.splitlines() == [
        f"unwired poser: {ini}",
        "left behind (edited by hand since wire; remove it yourself): "
        f"{ini}:{_line_of(ini, '# ' + option)}: # {option}",
        "left behind (edited by hand since wire; remove it yourself): "
        f"{env}:{_line_of(env, wired_line)}: {wired_line.strip()}",
    ]
    # the developer's own folder stays listed, beside the host's
    assert "version_locations = %(here)s/migrations/versions:%(here)s/mine\n" in ini.read_text()
    heads = _heads(host, poser)
    assert "(poser)" not in heads and "(head)" in heads


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


# --- the plugin must be importable where the host runs ------------------------------------------


def test_wire_warns_when_the_host_cannot_import_the_plugin(
    generic: GeneratedHost, poser: Path, tmp_path: Path
) -> None:
    host = _copy(generic, tmp_path)
    ini = host / "alembic.ini"
    result = run_scaffold("-c", str(ini), "wire", cwd=poser)
    assert result.stderr.splitlines() == [
        f"scaffold: warning: poser is not importable in {host} without scaffold: install the "
        "plugin into the host's environment (pip install -e <plugin project>), or plain "
        "alembic there fails"
    ]
    # installed (here: on the path), there is nothing to warn about
    again = run_scaffold("-c", str(ini), "wire", cwd=poser, env=_plain(poser))
    assert "warning" not in again.stdout + again.stderr


def test_wire_adds_two_lines_under_script_location_and_nothing_else(
    generic: GeneratedHost, poser: Path, tmp_path: Path
) -> None:
    host = _copy(generic, tmp_path)
    ini = host / "alembic.ini"
    original = ini.read_text()
    run_scaffold("-c", str(ini), "wire", cwd=poser, env=_plain(poser))
    added = (
        f"# {ADDED}\n"
        f"version_locations = %(here)s/migrations/versions:{poser}/src/poser/migrations\n"
    )
    location = "script_location = %(here)s/migrations\n"
    assert ini.read_text() == original.replace(location, location + added)


def test_files_without_a_final_line_ending_round_trip(
    generic: GeneratedHost, poser: Path, tmp_path: Path
) -> None:
    host = _copy(generic, tmp_path)
    ini, env = host / "alembic.ini", host / "migrations/env.py"
    # [alembic] last, its version_locations the last line
    text = ini.read_text()
    logging = text.index("# Logging configuration")
    ini.write_text(
        text[logging:]
        + text[:logging].rstrip()
        + "\nversion_locations = %(here)s/migrations/versions"
    )
    env.write_text(env.read_text().rstrip("\n"))
    original = _bytes(ini, env)
    run_scaffold("-c", str(ini), "wire", cwd=poser, env=_plain(poser))
    assert not ini.read_bytes().endswith(b"\n") and not env.read_bytes().endswith(b"\n")
    assert "(poser) (head)" in _heads(host, poser)
    run_scaffold("-c", str(ini), "unwire", "poser", cwd=poser)
    assert _bytes(ini, env) == original
