"""The unlearning engine: resolve a run, encode its data, loop, save state, execute."""
