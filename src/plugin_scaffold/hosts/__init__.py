"""Adapters for released hosts that build their Alembic config in code, and what `scaffold new`
answers for a plugin of each (how its test sessions install the host, its ``host-init``)."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class KnownHost:
    """A released host that plugin-scaffold ships a config factory for."""

    #: The ``host_alembic`` answer naming the factory.
    factory: str
    #: The host's import package.
    package: str
    #: What pip installs to get the host when it is not installed where ``scaffold new`` runs.
    requirement: str
    #: What the host needs to import but does not declare (installed beside it).
    needs: tuple[str, ...] = ()
    #: ``module:function`` laying down the rows the host adds outside its migrations.
    init: str = ""

    def answers(self) -> dict[str, str]:
        """The template answers ``scaffold new`` fills in when they are not given."""
        requirement = installed_requirement(self.package) or self.requirement
        found = {"host_requirement": "\n".join([requirement, *self.needs])}
        if self.init:
            found["host_init"] = self.init
        return found


def known_host(host_alembic: str) -> KnownHost | None:
    """The known host whose config factory ``host_alembic`` names, if any."""
    from . import mediagoblin

    return {mediagoblin.HOST.factory: mediagoblin.HOST}.get(host_alembic.strip())


def installed_requirement(package: str) -> str | None:
    """How pip installs again the distribution that provides ``package`` here, or None.

    ``name @ URL`` for one installed from a folder, an archive or a VCS (PEP 610's
    ``direct_url.json``: a checkout's folder, ``git+URL@commit``), ``name==version`` for one
    from an index; None when no installed distribution provides it (a folder on ``sys.path``).
    """
    from importlib import metadata

    names = metadata.packages_distributions().get(package)
    if not names:
        return None
    distribution = metadata.distribution(names[0])
    name = distribution.metadata["Name"] or names[0]
    try:
        direct = json.loads(distribution.read_text("direct_url.json") or "null")
    except ValueError:
        direct = None
    if not isinstance(direct, dict) or not isinstance(direct.get("url"), str):
        return f"{name}=={distribution.version}"
    url = direct["url"]
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") and vcs.get("commit_id"):
        url = f"{vcs['vcs']}+{url}@{vcs['commit_id']}"
    subdirectory = direct.get("subdirectory")
    if subdirectory:
        url += f"#subdirectory={subdirectory}"
    return f"{name} @ {url}"
