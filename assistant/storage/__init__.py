"""Embedded SQLite persistence under DATA_DIR: one file, one store per concern."""
