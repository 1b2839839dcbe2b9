"""MediaGoblin's Alembic config, built by MediaGoblin's own code from the site's mediagoblin.ini.

Give ``host_alembic = "plugin_scaffold.hosts.mediagoblin:alembic_config"`` and ``host_config``
(or ``-c ... --host-config``) the site's ``mediagoblin.ini``: scaffold then sees every
``migrations`` folder ``gmg dbupdate`` sees — the core's and those of the media types and
plugins enabled in ``[plugins]`` — with nothing hand-written.

Nothing of MediaGoblin is copied here: ``read_mediagoblin_config`` reads and validates the
site's file and ``build_alembic_config`` builds the Config, as ``gmg dbupdate`` does. That
function takes a session only to read the database URL from it and to hand it to MediaGoblin's
env.py; scaffold puts its own session there before env.py runs, so a stand-in is passed.
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, first_line
from ..hostkinds import import_host_module

if TYPE_CHECKING:
    from alembic.config import Config

SPEC = "plugin_scaffold.hosts.mediagoblin:alembic_config"


@dataclass(frozen=True)
class _Bind:
    url: str


@dataclass(frozen=True)
class _SessionStandIn:
    """What build_alembic_config asks of its session: ``get_bind().url``."""

    url: str

    def get_bind(self) -> _Bind:
        # build_alembic_config stores str(url) with Config.set_main_option, which interpolates
        # '%': doubled, a URL-encoded password reads back as written (and is not masked, as
        # str() of a SQLAlchemy URL would mask it).
        return _Bind(self.url.replace("%", "%%"))


def alembic_config(config_file: str, url: str | None = None) -> Config:
    """The Alembic Config MediaGoblin builds for the site ``config_file`` (mediagoblin.ini).

    ``url`` is the database scaffold is about to use; without one, the site's
    ``[mediagoblin] sql_engine`` (MediaGoblin's default: ``mediagoblin.db`` beside the file).
    """
    if importlib.util.find_spec("mediagoblin") is None:
        raise ConfigError(
            f"{SPEC} needs MediaGoblin (0.15, with its Alembic environment) importable where "
            "scaffold runs: No module named 'mediagoblin' (PyPI's mediagoblin is 0.9.0, without "
            "it: install MediaGoblin from its source)"
        )
    if not Path(config_file).is_file():
        raise ConfigError(f"{SPEC}: MediaGoblin's config file {config_file} does not exist")
    with warnings.catch_warnings():
        # MediaGoblin imports pkg_resources, which setuptools warns about on every command.
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
        site = import_host_module("mediagoblin.init.config", SPEC)
        tools = import_host_module("mediagoblin.db.migration_tools", SPEC)
    build = getattr(tools, "build_alembic_config", None)
    if build is None:
        raise ConfigError(
            f"{SPEC}: this MediaGoblin ({tools.__file__}) has no build_alembic_config: "
            "install MediaGoblin 0.15 from its source"
        )
    try:
        global_config, validation = site.read_mediagoblin_config(config_file)
        report = site.generate_validation_report(global_config, validation)
        if report:
            problems = [line.strip() for line in report.splitlines()[2:] if line.strip()]
            raise ConfigError(f"{config_file}: MediaGoblin rejects it: {'; '.join(problems)}")
        if url is None:
            url = str(global_config["mediagoblin"]["sql_engine"])
        config: Any = build(global_config, None, _SessionStandIn(url))
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"{SPEC}: MediaGoblin cannot build its Alembic config from {config_file}: "
            f"{first_line(exc)}"
        ) from None
    if not config.get_main_option("script_location"):
        raise ConfigError(
            f"{SPEC}: this MediaGoblin ({tools.__file__}) has no Alembic environment "
            "(mediagoblin/db/migrations/alembic.ini): install MediaGoblin 0.15 from its source"
        )
    # The stand-in is not a session: env.py gets scaffold's own (environment.handed_in).
    config.attributes.pop("session", None)
    return config  # type: ignore[no-any-return]
