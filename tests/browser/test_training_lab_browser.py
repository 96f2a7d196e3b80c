"""The overfitting story in Chromium: train the preset bare, then with L2, compare on Runs."""

import pytest

from nnplay.lessons.training_lab import TECHNIQUES

pytestmark = pytest.mark.browser


def train_and_wait(page, idle, before: str = "") -> str:
    """Press Train and wait until a new run is stored; returns the 'Stored as run N' text."""
    page.get_by_role("button", name="Train", exact=True).click()
    stored = page.get_by_text("Stored as run").first
    for _ in range(360):
        if stored.count() and stored.inner_text() != before:
            break
        page.wait_for_timeout(500)
    idle(page)
    return stored.inner_text()


def test_overfitting_preset_then_l2_then_compare_on_runs(page, app_url, idle):
    page.goto(f"{app_url}/training_lab")
    idle(page, timeout_s=120)
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("Overfitting preset").click()
    idle(page)
    first = train_and_wait(page, idle)
    main.get_by_text(TECHNIQUES["l2"].title).click()
    idle(page)
    second = train_and_wait(page, idle, before=first)
    assert first != second
    assert page.locator('[data-testid="stException"]').count() == 0
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Runs", exact=True).click()
    idle(page, timeout_s=60)
    table = page.locator('[data-testid="stDataFrame"]').first
    table.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    caption = page.get_by_text(" runs in ").first.inner_text()
    assert int(caption.split()[0]) >= 2                             # both runs are stored
    assert page.locator(".js-plotly-plot").count() >= 1             # their curves overlaid
