"""Migrations for the retraining loop (label corrections by moderators).

Append new named functions at the end; never edit one that has been applied.
"""

from __future__ import annotations

from sqlite_utils import Database  # noqa: F401

from .schema import migrations  # noqa: F401
