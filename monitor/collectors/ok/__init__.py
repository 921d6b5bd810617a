"""Одноклассники group pages through the OK REST API (httpx, signed requests)."""

from .client import OkClient
from .group import GroupCollector

__all__ = ["GroupCollector", "OkClient"]
