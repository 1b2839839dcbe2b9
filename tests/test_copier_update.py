"""Template releases: a plugin's answers name the release it came from; `copier update` moves it on.

A temporary clone of this repository stands for the published one. It is released as
docs/releasing.md says (``__version__`` bumped, an annotated tag ``vX.Y.Z``); copier renders the
newest tag and records it as ``_commit``; after a second release changes the template,
``copier update`` brings the change into the plugin and keeps the plugin author's own edits.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COPIER = Path(sys.executable).with_name("copier")
INIT = "src/plugin_scaffold/__init__.py"
README = "template/{{cookiecutter.plugin_name}}/README.md"
NEW_LINE = "Rendered by a later template release."
GIT_ENV = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def run(*argv: str | Path, cwd: Path) -> str:
    env = {**os.environ, **GIT_ENV}
    result = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{argv}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def release(repo: Path, version: str) -> None:
    """Cut a release the documented way: one version number, one tag."""
    init = repo / INIT
    pattern = re.compile(r'^__version__ = "[^"]+"', re.M)
    text = pattern.sub(f'__version__ = "{version}"', init.read_text(), count=1)
    init.write_text(text)
    run("git", "commit", "-q", "-am", f"Release {version}", "--allow-empty", cwd=repo)
    run("git", "tag", "-a", f"v{version}", "-m", f"plugin-scaffold {version}", cwd=repo)


def answers(project: Path) -> dict[str, str]:
    data = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture
def published(tmp_path: Path) -> Path:
    """A clone of this repository's committed tree: the template as it would be published."""
    if not COPIER.is_file():
        pytest.skip("copier is not installed in this venv")
    repo = tmp_path / "plugin-scaffold"
    run("git", "clone", "-q", "--no-hardlinks", ROOT, repo, cwd=tmp_path)
    return repo


def test_copier_update_moves_a_plugin_from_one_release_to_the_next(
    published: Path, tmp_path: Path
) -> None:
    release(published, "0.1.0")
    plugin = tmp_path / "media_tags"
    # No --vcs-ref: copier renders the newest release tag.
    run(
        COPIER,
        "copy",
        "--defaults",
        "-d",
        "plugin_name=media_tags",
        published,
        plugin,
        cwd=tmp_path,
    )
    first = answers(plugin)
    assert first["_commit"] == "v0.1.0"
    assert first["_src_path"] == str(published)
    # From a checkout, the plugin's tests get plugin-scaffold from that checkout, as before.
    assert first["scaffold_requirement"] == f"plugin-scaffold @ {published.as_uri()}"
    assert NEW_LINE not in (plugin / "README.md").read_text()

    # The plugin author's project, with an edit of their own.
    models = plugin / "src" / "media_tags" / "models.py"
    models.write_text(models.read_text() + "\n# the author's own line\n")
    run("git", "init", "-q", cwd=plugin)
    run("git", "add", "-A", cwd=plugin)
    run("git", "commit", "-q", "-m", "media_tags from plugin-scaffold v0.1.0", cwd=plugin)

    # The next release changes the template.
    readme = published / README
    readme.write_text(readme.read_text() + f"\n{NEW_LINE}\n")
    run("git", "commit", "-q", "-am", "template: a new line in the plugin's README", cwd=published)
    release(published, "0.2.0")

    run(COPIER, "update", "--defaults", cwd=plugin)
    second = answers(plugin)
    assert second["_commit"] == "v0.2.0"
    assert {k: v for k, v in second.items() if k != "_commit"} == {
        k: v for k, v in first.items() if k != "_commit"
    }
    assert NEW_LINE in (plugin / "README.md").read_text()
    assert models.read_text().endswith("\n# the author's own line\n")
    changed = run("git", "status", "--porcelain", cwd=plugin).split("\n")
    assert sorted(line[3:] for line in changed if line) == [".copier-answers.yml", "README.md"]
