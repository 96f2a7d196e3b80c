"""The Production pages in Chromium on a model trained on another page (Evaluation's default
network) and, in a new session, on that model uploaded as a zip: Export verifies both files,
Monitoring runs its stream, Compression measures its table; no exception anywhere."""

import re

import pytest

pytestmark = pytest.mark.browser


def wait_for_models(page, count: int, timeout_s: float = 180) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_text(
        re.compile(rf"Your models \({count}\)")).wait_for(timeout=timeout_s * 1000)


def open_lesson(page, idle, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=60_000)
    idle(page, timeout_s=240)


def no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def check_export(page, idle) -> None:
    open_lesson(page, idle, "Export")
    page.get_by_text("Largest difference from PyTorch").first.wait_for(timeout=120_000)
    assert page.get_by_text("every output within 0.0001 of PyTorch").count() == 2   # both files
    assert page.get_by_role("button", name="Download the model card (Markdown)").count() == 1
    no_exception(page)


def test_production_pages_on_a_model_from_another_page_and_on_an_uploaded_one(
        browser, fresh_app_url, idle, tmp_path):
    first = browser.new_page(viewport={"width": 1400, "height": 1400})
    first.goto(f"{fresh_app_url}/evaluate")
    idle(first, timeout_s=180)
    wait_for_models(first, 1)          # Evaluation trained its default network
    check_export(first, idle)
    open_lesson(first, idle, "Monitoring")
    first.get_by_text("Drift per column").first.wait_for(timeout=120_000)
    first.get_by_text("Accuracy before and after the labels arrive").first.wait_for()
    no_exception(first)
    open_lesson(first, idle, "Compression")
    if first.get_by_role("button", name="Measure with these settings").count():
        first.get_by_role("button", name="Measure with these settings").click()
    first.get_by_text("What runs as int8 on this CPU").wait_for(timeout=240_000)
    assert first.get_by_text(re.compile(r"Smallest within one point of fp32")).count() == 1
    assert first.get_by_text("nan", exact=True).count() == 0
    no_exception(first)
    sidebar = first.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text(re.compile(r"Your models \(1\)")).click()
    with first.expect_download() as download:
        sidebar.get_by_role("button", name="Download (zip)").click()
    path = tmp_path / "model.zip"
    download.value.save_as(path)
    first.close()

    second = browser.new_page(viewport={"width": 1400, "height": 1400})   # a new session
    second.goto(f"{fresh_app_url}/runs")
    idle(second, timeout_s=120)
    sidebar = second.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text(re.compile(r"Your models \(0\)")).click()
    sidebar.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(
        str(path))
    idle(second, timeout_s=120)
    wait_for_models(second, 1, timeout_s=60)
    check_export(second, idle)         # the uploaded model is the one picked
    open_lesson(second, idle, "Monitoring")
    second.get_by_text("Drift per column").first.wait_for(timeout=120_000)
    no_exception(second)
    second.close()
