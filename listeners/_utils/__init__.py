"""Helpers shared by listeners."""
