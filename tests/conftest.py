"""Shared test set-up: no progress bars, one deterministic thread policy."""
import os

import pytest

os.environ["LINSTRUCT_PROGRESS"] = "0"


@pytest.fixture(autouse=True)
def _no_profile_from_environment(monkeypatch):
    """Tests choose their profile explicitly."""
    monkeypatch.delenv("LINSTRUCT_PROFILE", raising=False)
