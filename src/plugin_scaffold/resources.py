"""Where the plugin template, the example host and this plugin-scaffold itself are found."""

from __future__ import annotations

import json
from importlib import metadata, resources
from pathlib import Path

from .errors import ConfigError

DISTRIBUTION = "plugin-scaffold"


def template_root() -> Path:
    """The folder holding ``copier.yml``, ``template/`` and ``examples/``.

    Installed from a wheel, that is the package data ``plugin_scaffold/_data``; run from a
    source checkout (an editable install), it is the checkout's root.
    """
    data = Path(str(resources.files("plugin_scaffold") / "_data"))
    if _is_template_root(data):
        return data
    checkout = source_checkout()
    if checkout is not None:
        return checkout
    raise ConfigError(
        f"plugin-scaffold's template is missing: neither {data} nor a source checkout holds "
        "copier.yml and template/; reinstall plugin-scaffold"
    )


def example_host_dir() -> Path:
    """The example host's project folder (its ``pyproject.toml`` and ``alembic.ini``)."""
    return template_root() / "examples" / "examplehost"


def source_checkout() -> Path | None:
    """The root of the plugin-scaffold source tree this module runs from, if it runs from one."""
    root = Path(__file__).resolve().parents[2]
    if _is_source_tree(root) and _is_template_root(root):
        return root
    return None


def scaffold_requirement(extra: str = "") -> str:
    """What a generated plugin pip-installs to get this very plugin-scaffold (with ``extra``).

    The source checkout it runs from, else where the installed distribution came from
    (its PEP 610 ``direct_url.json``: a folder, an archive or a VCS commit), else the release
    installed from an index, pinned: the plugin's tests run the plugin-scaffold whose template
    rendered it.
    """
    name = f"{DISTRIBUTION}[{extra}]" if extra else DISTRIBUTION
    checkout = source_checkout()
    if checkout is not None:
        return f"{name} @ {checkout.as_uri()}"
    origin = _direct_url()
    if origin is not None:
        return f"{name} @ {origin}"
    try:
        return f"{name}=={metadata.version(DISTRIBUTION)}"
    except metadata.PackageNotFoundError:
        return name


def install_command(extra: str) -> str:
    """The ``pip install`` that adds ``extra`` to this very plugin-scaffold, wherever it came from.

    A source checkout is installed again editable, as a developer installs it; anything else
    from where it came (:func:`scaffold_requirement`), at the same version.
    """
    import shlex

    checkout = source_checkout()
    if checkout is not None:
        return f"pip install -e {shlex.quote(f'{checkout}[{extra}]')}"
    return f"pip install {shlex.quote(scaffold_requirement(extra))}"


def _direct_url() -> str | None:
    """The URL pip can reinstall the installed distribution from, per its ``direct_url.json``."""
    try:
        text = metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not text:
        return None
    try:
        info = json.loads(text)
    except ValueError:
        return None
    url = info.get("url")
    if not isinstance(url, str) or not url:
        return None
    vcs = info.get("vcs_info")
    if isinstance(vcs, dict):
        commit = vcs.get("commit_id") or vcs.get("requested_revision")
        url = f"{vcs.get('vcs', 'git')}+{url}" + (f"@{commit}" if commit else "")
    subdirectory = info.get("subdirectory")
    if subdirectory:
        url += f"#subdirectory={subdirectory}"
    return url


def _is_template_root(folder: Path) -> bool:
    return (folder / "copier.yml").is_file() and (folder / "template").is_dir()


def _is_source_tree(folder: Path) -> bool:
    # The same test copier.yml makes for its scaffold_requirement default.
    return (folder / "pyproject.toml").is_file() and (
        folder / "src" / "plugin_scaffold" / "__init__.py"
    ).is_file()
