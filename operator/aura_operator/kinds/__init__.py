"""One folder per kind: its model, its decisions and its registration."""
