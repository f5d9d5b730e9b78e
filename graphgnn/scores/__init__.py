"""Scoring side (no torch import): thresholds, runs, write-back, reasons, rings, rescoring,
reports."""
