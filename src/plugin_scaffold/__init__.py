"""plugin-scaffold: plugins that own their tables and their Alembic branch in a host application."""

# The one version number: pyproject.toml reads it (hatchling), `scaffold --version` prints it,
# and a release is tagged vX.Y.Z with it (docs/releasing.md).
__version__ = "0.1.0"
