"""Measuring a generator on a paired split: per-image metrics, a summary, an HTML gallery."""
