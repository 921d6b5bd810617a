"""Retraining: moderators' label corrections, training data exports, model versions."""
