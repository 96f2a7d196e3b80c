"""A real app server on 127.0.0.1 and headless Debian Chromium, shared by the browser tests."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-sync", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(tmp_dir: Path):
    """`streamlit run app.py` on a free loopback port, stopped when the block ends."""
    port = free_port()
    env = {**os.environ, "NNPLAY_DB": str(tmp_dir / "runs.sqlite"),
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    log = open(tmp_dir / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the streamlit server did not start within 90 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """One app server for the browser tests of the session."""
    with running_app(tmp_path_factory.mktemp("app")) as url:
        yield url


@pytest.fixture
def fresh_app_url(tmp_path):
    """A new app server that nobody has visited yet (for first-visit behaviour)."""
    with running_app(tmp_path) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def wait_until_idle(pg, settle_ms: int = 700, timeout_s: float = 90) -> None:
    """Wait until Streamlit has finished running the script (its status widget is gone)."""
    deadline = time.time() + timeout_s
    pg.wait_for_timeout(settle_ms)
    while time.time() < deadline:
        if pg.locator('[data-testid="stStatusWidget"]').count() == 0:
            pg.wait_for_timeout(300)
            if pg.locator('[data-testid="stStatusWidget"]').count() == 0:
                return
        pg.wait_for_timeout(250)
    raise AssertionError(f"the page kept running for more than {timeout_s:.0f} s")


@pytest.fixture
def idle():
    """The wait_until_idle helper, as a fixture (test modules cannot import conftest)."""
    return wait_until_idle
