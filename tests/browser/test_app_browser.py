"""Open the app in headless Chromium, visit every page through the navigation, find no exception."""

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from nnplay.ui.pages import available_lessons

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("NNPLAY_SCREENSHOTS")
# what a page must never show a person: a raw nan/None/inf, or a float printed with 12+ digits
RAW_NUMBERS = re.compile(r"\b(?:nan|NaN|None|inf|Infinity)\b|\d\.\d{11,}")


def shot(pg, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_home_shows_the_path_and_device(page, app_url, idle):
    page.goto(app_url)
    page.get_by_role("heading", name="nnplay").first.wait_for()
    idle(page)
    assert page.get_by_text("Running on").count() >= 1
    assert page.locator('[data-testid="stException"]').count() == 0
    shot(page, "home")


def test_every_page_through_the_navigation(page, app_url, idle):
    page.goto(app_url)
    idle(page)
    nav = page.locator('[data-testid="stSidebarNav"]')
    for lesson in available_lessons():
        nav.get_by_role("link", name=lesson.title, exact=True).click()
        idle(page, timeout_s=120)
        path = urlparse(page.url).path.rstrip("/")
        assert path.endswith("/" + Path(lesson.page).stem), (lesson.title, page.url)
        heading = page.locator('[data-testid="stMain"] h1').first
        heading.wait_for()
        assert heading.inner_text().strip(), f"{lesson.title}: the page shows no title"
        errors = page.locator('[data-testid="stException"]')
        assert errors.count() == 0, f"{lesson.title}: {errors.first.inner_text()[:500]}"
        text = page.locator('[data-testid="stMain"]').inner_text()
        raw = RAW_NUMBERS.findall(text)
        assert not raw, f"{lesson.title} shows raw numbers a person cannot read: {raw[:5]}"
        shot(page, Path(lesson.page).stem)


def test_a_shared_link_opens_inside_the_app_on_a_fresh_server(page, fresh_app_url, idle):
    """The first visitor arrives by a deep link: the app's navigation and the link's settings."""
    page.goto(f"{fresh_app_url}/playground?dataset=xor&noise=20&hidden=3,3&hide=lr")
    idle(page, timeout_s=120)
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_text("Foundations").wait_for()
    assert nav.get_by_role("link", name="The neuron", exact=True).count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Noise (%)").wait_for()
    assert "noise (%)\n\n20" in sidebar.inner_text().lower()   # the link's noise
    assert "dataset=xor" in page.url and "noise=20" in page.url   # settings kept in the URL
    assert page.get_by_text("Learning rate", exact=True).count() == 0  # hidden by the link
    shot(page, "playground_shared_link")
