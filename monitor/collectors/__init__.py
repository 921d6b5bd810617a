"""Collectors: each reads one kind of source and yields Posts."""

from .post import CHANNELS, Post

__all__ = ["CHANNELS", "Post"]
