"""Ingest: a collector's batch and its cursor stored in one transaction, labelled,
opened as incidents or linked to one."""

from .batch import IngestReport, ingest

__all__ = ["IngestReport", "ingest"]
