"""Helpers shared by the page tests: open a page headlessly, wait for its background job."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGES = Path(__file__).resolve().parents[2] / "pages"


@pytest.fixture
def open_page():
    """open_page("cnn") runs pages/cnn.py once in AppTest and checks it raised nothing."""
    def run(name: str, timeout: float = 60) -> AppTest:
        at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=timeout).run()
        assert not at.exception
        return at

    return run


@pytest.fixture
def finish_job():
    """finish_job(at, "cnn_job") waits for the job's thread, then draws the page once more."""
    def wait(at: AppTest, key: str, timeout: float = 120) -> AppTest:
        at.session_state[key]["worker"].join(timeout)
        at.run()
        assert not at.exception
        return at

    return wait
