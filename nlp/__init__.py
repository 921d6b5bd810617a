"""Russian NLP for ЦУР messages: text in, labels out. No network, no database."""

from .labels import ACTIONABLE_KINDS, KINDS, TOPICS, URGENCIES
from .pipeline import Labelled, Labels, Pipeline
from .registry import ModelError

__all__ = ["ACTIONABLE_KINDS", "KINDS", "Labelled", "Labels", "ModelError", "Pipeline", "TOPICS", "URGENCIES"]
