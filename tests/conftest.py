"""Shared fixtures: small seeded datasets and a temporary runs database for every test."""

import os
import sys
from pathlib import Path

import pytest
import torch

# Tiny models gain nothing from intra-op threads, and on a busy 2-core machine OpenMP's spinning
# threads make them many times slower; the CLI and bench subprocesses keep torch's default.
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # pages and bench import nnplay from the checkout


@pytest.fixture(autouse=True)
def _isolated_runs_db(tmp_path, monkeypatch):
    """No test writes to the user's real runs database."""
    monkeypatch.setenv("NNPLAY_DB", str(tmp_path / "runs.sqlite"))
    yield


@pytest.fixture
def moons():
    from nnplay import data

    return data.load("moons", n=400, noise=0.1, test_size=0.3, seed=0)


@pytest.fixture
def plane():
    from nnplay import data

    return data.load("plane", n=300, noise=0.0, seed=0)


def pytest_configure(config):
    os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
