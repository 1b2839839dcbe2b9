"""Databases: URLs (urls), engines and scratch databases (servers), the migration lock
(locking), the version table (versiontable) and schema snapshots (schema)."""
