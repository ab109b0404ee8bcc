"""Formats other tools read and write (open-unlearning)."""
