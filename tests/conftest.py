"""Shared test set-up: batch execution (no progress bars, static widgets)."""
import os

import pytest

os.environ["LINSTRUCT_INTERACTIVE"] = "0"


@pytest.fixture(autouse=True)
def _no_profile_from_environment(monkeypatch):
    """Tests choose their profile explicitly."""
    monkeypatch.delenv("LINSTRUCT_PROFILE", raising=False)
