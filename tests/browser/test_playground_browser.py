"""The Playground in Chromium: play, pause, step, export, a sidebar round trip that keeps
every setting and the trained network, and a learning-rate change while playing."""

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


RECORD_EPOCHS = """() => {
  // Every value the epoch counter shows from now on, recorded inside the page.
  window.__epochs = [];
  const value = () => {
    const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
        .find(e => e.innerText.includes('Epoch'));
    return m && m.querySelector('[data-testid="stMetricValue"]')?.innerText;
  };
  const tick = () => {
    const text = value();
    if (text && text !== window.__epochs.at(-1)) window.__epochs.push(text);
  };
  new MutationObserver(tick).observe(document.body, {subtree: true, childList: true,
                                                     characterData: true});
  tick();
}"""


def slider_value(page, label: str) -> str:
    slider = page.locator('[data-testid="stSlider"]').filter(has_text=label)
    return slider.locator('[data-testid="stSliderThumbValue"]').inner_text()


def url_params(page) -> dict:
    from urllib.parse import parse_qs, urlparse

    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}


def go_to(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()


def test_a_sidebar_round_trip_keeps_settings_url_and_the_trained_network(page, app_url, idle):
    page.goto(f"{app_url}/playground?dataset=gauss&hidden=3&lr=0.1&train_pct=70&batch_size=32"
              "&features=x1,x2,sin_x1")
    idle(page, timeout_s=120)
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_timeout(2000)
    page.get_by_role("button", name="⏸ Pause").click()
    page.get_by_role("button", name="▶ Play").wait_for()
    idle(page)
    trained = epoch(page)
    assert trained > 0
    go_to(page, "Training lab")
    idle(page, timeout_s=120)
    assert "/training_lab" in page.url
    go_to(page, "Playground")
    idle(page, timeout_s=120)
    assert epoch(page) == trained                                  # the same network, paused
    assert slider_value(page, "Learning rate") == "0.1"
    assert slider_value(page, "Training data") == "70"
    assert slider_value(page, "Batch size") == "32"
    assert page.get_by_role("checkbox", name="sin X₁", exact=True).is_checked()
    assert not page.get_by_role("checkbox", name="X₁²", exact=True).is_checked()
    assert page.get_by_text("Switch on at least one input feature").count() == 0
    params = url_params(page)                                      # the URL is written again
    assert (params["dataset"], params["lr"], params["train_pct"], params["batch_size"],
            params["features"], params["hidden"]) == ("gauss", "0.1", "70", "32",
                                                       "x1,x2,sin_x1", "3")
    page.get_by_role("button", name="▶ Play").click()               # leave while playing
    page.wait_for_timeout(1500)
    left_at = epoch(page)
    go_to(page, "Home")
    idle(page, timeout_s=120)
    go_to(page, "Playground")
    page.locator(EPOCH).first.wait_for()
    assert epoch(page) >= left_at > trained                         # never back to epoch 0
    page.get_by_role("button", name="⏸ Pause").click()               # and it still plays
    page.get_by_role("button", name="▶ Play").wait_for()
    page.reload()                                                   # a reload reads the URL
    idle(page, timeout_s=120)
    assert epoch(page) == 0 and slider_value(page, "Learning rate") == "0.1"
    assert page.get_by_role("checkbox", name="sin X₁", exact=True).is_checked()
    assert page.locator('[data-testid="stException"]').count() == 0


def test_a_learning_rate_change_while_playing_keeps_the_epoch_count(page, app_url, idle):
    page.goto(f"{app_url}/playground?dataset=xor&hidden=4,4&lr=0.03")
    idle(page, timeout_s=120)
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_timeout(2500)
    before = epoch(page)
    assert before > 0
    page.evaluate(RECORD_EPOCHS)
    lr = page.locator('[data-testid="stSlider"]').filter(has_text="Learning rate")
    lr.get_by_role("slider").press("ArrowRight")                    # 0.03 -> 0.1
    page.wait_for_function("() => location.search.includes('lr=0.1')")
    page.wait_for_timeout(1500)
    shown = [int(text.replace(",", "")) for text in page.evaluate("() => window.__epochs")]
    assert min(shown) >= before and shown[-1] > before              # on from where it was
    assert page.get_by_role("button", name="⏸ Pause").count() == 1   # still playing
    page.get_by_role("button", name="⏸ Pause").click()
    page.get_by_role("button", name="▶ Play").wait_for()
    idle(page)
    assert slider_value(page, "Learning rate") == "0.1"
    assert page.locator('[data-testid="stException"]').count() == 0
