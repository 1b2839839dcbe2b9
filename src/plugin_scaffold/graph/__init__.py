"""The combined revision graph of the host and its plugins (revisions), its pictures (picture),
revision files read as source (sources), and the version rows no revision has (orphans)."""
