"""Collectors: each reads one kind of source and yields Posts (monitor.ingest.post)."""

from monitor.ingest.post import CHANNELS, Post

__all__ = ["CHANNELS", "Post"]
