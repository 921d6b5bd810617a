"""The catalog: sources, users, organisations, the audit log, regions."""
