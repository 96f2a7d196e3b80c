"""A Playground session in Chromium: play, pause, step, and export the experiment as a script."""

import pytest

pytestmark = pytest.mark.browser
EPOCH = '[data-testid="stMetric"]:has-text("Epoch") [data-testid="stMetricValue"]'


def epoch(page) -> int:
    return int(page.locator(EPOCH).first.inner_text().replace(",", ""))


def test_play_pause_step_and_export(page, app_url, idle):
    page.goto(f"{app_url}/playground?dataset=xor&hidden=4,4&lr=0.03")
    idle(page, timeout_s=120)
    assert epoch(page) == 0
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_timeout(2500)
    running = epoch(page)
    assert running > 0
    assert page.locator('[data-testid="stImage"]').count() >= 2   # live maps as images
    page.get_by_role("button", name="⏸ Pause").click()
    page.get_by_role("button", name="▶ Play").wait_for()
    idle(page)
    paused = epoch(page)
    page.wait_for_timeout(1000)
    assert epoch(page) == paused >= running                       # pause holds
    page.get_by_role("button", name="Step one epoch").click()
    idle(page)
    assert epoch(page) == paused + 1
    assert page.locator(".js-plotly-plot").count() >= 3            # interactive figures when paused
    with page.expect_download() as download:
        page.get_by_role("button", name="Export as a PyTorch script").click()
    script = open(download.value.path()).read()
    assert "import torch" in script and "xor" in script.lower()
    assert page.locator('[data-testid="stException"]').count() == 0
