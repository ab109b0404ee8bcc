"""Run directories: their layout, live status, readers and writers."""
