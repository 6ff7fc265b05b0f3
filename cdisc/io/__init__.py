"""Readers and writers at the edges of the pipeline (raw exports, XPT v5, Dataset-JSON)."""
