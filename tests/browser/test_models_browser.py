"""A model made on one page travels: it appears under Your models, downloads as one zip, and a
new browser session that uploads the zip gets the same model back, in Chromium."""

import re
import zipfile

import pytest

pytestmark = pytest.mark.browser


def wait_for_models(page, count: int, timeout_s: float = 180) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_text(
        re.compile(rf"Your models \({count}\)")).wait_for(timeout=timeout_s * 1000)


def test_a_model_downloads_and_comes_back_in_a_new_session(browser, app_url, idle, tmp_path):
    first = browser.new_page(viewport={"width": 1400, "height": 1000})
    first.goto(f"{app_url}/evaluate")
    idle(first, timeout_s=180)
    wait_for_models(first, 1)   # the page trained a default network in the background
    sidebar = first.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text(re.compile(r"Your models \(1\)")).click()
    with first.expect_download() as download:
        sidebar.get_by_role("button", name="Download (zip)").click()
    path = tmp_path / "model.zip"
    download.value.save_as(path)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["model.json", "model.safetensors"]
    first.close()

    second = browser.new_page(viewport={"width": 1400, "height": 1000})   # a new session
    second.goto(f"{app_url}/runs")
    idle(second, timeout_s=120)
    sidebar = second.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text(re.compile(r"Your models \(0\)")).click()
    sidebar.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(
        str(path))
    idle(second, timeout_s=120)
    wait_for_models(second, 1, timeout_s=60)
    assert second.locator('[data-testid="stException"]').count() == 0
    assert sidebar.get_by_text("is in your models").count() == 1
    second.close()
