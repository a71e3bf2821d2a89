"""Pytest fixture for the simulator; import it into a conftest.py to use it (`from …fixtures import slack_sim`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .simulator import SlackSimulator


@pytest.fixture
def slack_sim() -> Iterator[SlackSimulator]:
    """A running simulator per test, stopped (all Socket Mode connections closed) at teardown."""
    sim = SlackSimulator(disconnect_grace=0.5).start()
    try:
        yield sim
    finally:
        sim.stop()
