"""MediaGoblin's Alembic config, built by MediaGoblin's own code from the site's mediagoblin.ini,
and the rows MediaGoblin lays down on a fresh database (its default privileges).

Give ``host_alembic = "plugin_scaffold.hosts.mediagoblin:alembic_config"`` and ``host_config``
(or ``-c ... --host-config``) the site's ``mediagoblin.ini``: scaffold then sees every
``migrations`` folder ``gmg dbupdate`` sees — the core's and those of the media types and
plugins enabled in ``[plugins]`` — with nothing hand-written. ``host_init =
"plugin_scaffold.hosts.mediagoblin:foundations"`` adds what ``gmg dbupdate`` adds to a fresh
database after its migrations (``core__privileges``), which no revision does.

Nothing of MediaGoblin is copied here: ``read_mediagoblin_config`` reads and validates the
site's file, ``build_alembic_config`` builds the Config and ``run_foundations`` lays the rows,
as ``gmg dbupdate`` does. ``build_alembic_config`` takes a session only to read the database URL
from it and to hand it to MediaGoblin's env.py; scaffold puts its own session there before
env.py runs, so a stand-in is passed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, first_line
from ..host.kinds import import_host_module
from . import KnownHost

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

SPEC = "plugin_scaffold.hosts.mediagoblin:alembic_config"
INIT = "plugin_scaffold.hosts.mediagoblin:foundations"

#: What `scaffold new` answers for a plugin of MediaGoblin. MediaGoblin 0.15 is not on PyPI (its
#: ``mediagoblin`` there is 0.9.0, without an Alembic environment), and its source does not
#: build from a VCS URL (``mediagoblin/_version.py`` is written by ``configure``): the plugin's
#: test sessions install the MediaGoblin installed where ``scaffold new`` runs, else ask for
#: ``mediagoblin>=0.15`` (see docs/mediagoblin.md). MediaGoblin imports ``pkg_resources``
#: without declaring setuptools, which dropped it in 81.
HOST = KnownHost(
    factory=SPEC,
    package="mediagoblin",
    requirement="mediagoblin>=0.15",
    needs=("setuptools<81",),
    init=INIT,
)


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
    global_config = _site_config(config_file, SPEC)
    build = _host_function("mediagoblin.db.migration_tools", "build_alembic_config", SPEC)
    try:
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
            f"{SPEC}: this MediaGoblin ({inspect.getfile(build)}) has no Alembic environment "
            "(mediagoblin/db/migrations/alembic.ini): install MediaGoblin 0.15 from its source"
        )
    # The stand-in is not a session: env.py gets scaffold's own (environment.handed_in).
    config.attributes.pop("session", None)
    return config  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _DatabaseStandIn:
    """What ``run_foundations`` asks of its database: an ``engine`` to bind a session to."""

    engine: Connection


def foundations(connection: Connection, config_file: str | None = None) -> None:
    """What ``gmg dbupdate`` adds to a fresh database after its migrations: the rows of
    ``FOUNDATIONS`` (the default privileges: admin, moderator, uploader, ...) of MediaGoblin's
    models and of the plugins the site enables, by MediaGoblin's own ``run_foundations``.

    Its session is bound to ``connection``: the rows are written in scaffold's transaction.
    ``config_file`` is the site's mediagoblin.ini (``host_config``), which says which plugins'
    foundations are laid too; without it, MediaGoblin's own only.
    """
    run = _host_function("mediagoblin.gmg_commands.dbupdate", "run_foundations", INIT)
    global_config = _site_config(config_file, INIT) if config_file else {}
    # MediaGoblin prints "Laying foundations for ..." to stdout, which is scaffold's own.
    with contextlib.redirect_stdout(io.StringIO()):
        run(_DatabaseStandIn(connection), global_config)


def _host_module(name: str, spec: str) -> Any:
    """One of MediaGoblin's modules, or one line saying that MediaGoblin is not there."""
    if importlib.util.find_spec("mediagoblin") is None:
        raise ConfigError(
            f"{spec} needs MediaGoblin (0.15, with its Alembic environment) importable where "
            "scaffold runs: No module named 'mediagoblin' (PyPI's mediagoblin is 0.9.0, without "
            "it: install MediaGoblin from its source)"
        )
    with warnings.catch_warnings():
        # MediaGoblin imports pkg_resources, which setuptools warns about on every command.
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
        return import_host_module(name, spec)


def _host_function(module: str, name: str, spec: str) -> Any:
    """MediaGoblin's function ``module.name``, or one line saying this MediaGoblin lacks it."""
    found = _host_module(module, spec)
    function = getattr(found, name, None)
    if function is None:
        raise ConfigError(
            f"{spec}: this MediaGoblin ({found.__file__}) has no {name}: install MediaGoblin "
            "0.15 from its source"
        )
    return function


def _site_config(config_file: str, spec: str) -> Any:
    """The site's mediagoblin.ini as MediaGoblin reads it, refused as MediaGoblin refuses it."""
    if importlib.util.find_spec("mediagoblin") is not None and not Path(config_file).is_file():
        raise ConfigError(f"{spec}: MediaGoblin's config file {config_file} does not exist")
    site = _host_module("mediagoblin.init.config", spec)
    try:
        global_config, validation = site.read_mediagoblin_config(config_file)
        report = site.generate_validation_report(global_config, validation)
    except Exception as exc:
        raise ConfigError(
            f"{spec}: MediaGoblin cannot read {config_file}: {first_line(exc)}"
        ) from None
    if report:
        problems = [line.strip() for line in report.splitlines()[2:] if line.strip()]
        raise ConfigError(f"{config_file}: MediaGoblin rejects it: {'; '.join(problems)}")
    return global_config
