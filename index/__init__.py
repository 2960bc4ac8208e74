"""Footnote's retrieval engine: pure, synchronous, and free of any Discord import."""
