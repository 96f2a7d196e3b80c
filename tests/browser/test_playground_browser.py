"""The Playground in Chromium: play, pause, step, export, a sidebar round trip that keeps
every setting and the trained network, and a learning-rate change while playing."""

import json

import pytest

# These tests play the network for seconds and read a live counter on a shared 2-core machine:
# a run can land between two redraws. Each failure is retried up to twice (pytest-rerunfailures);
# a real regression fails all three tries.
pytestmark = [pytest.mark.browser, pytest.mark.flaky(reruns=2, reruns_delay=2)]
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
    assert page.locator('[data-testid="stImage"]').count() == 0   # live maps drawn in the page
    assert page.locator("canvas.pgv-out-canvas").count() == 1
    page.get_by_role("button", name="⏸ Pause").click()
    page.get_by_role("button", name="▶ Play").wait_for()
    idle(page)
    paused = epoch(page)
    page.wait_for_timeout(1000)
    assert epoch(page) == paused >= running                       # pause holds
    page.get_by_role("button", name="Step one epoch").click()
    idle(page)
    assert epoch(page) == paused + 1
    assert page.locator("canvas.pgv-net-canvas").count() == 1       # the same view when paused
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


RECORD_AFTER_CLICK = """name => {
  // When the button is pressed (capture phase: before the app sees the click), and every
  // epoch value shown from then on.
  window.__after = null;
  const button = [...document.querySelectorAll('button')].find(b => b.innerText.includes(name));
  button.addEventListener('click', () => { window.__after = []; }, {capture: true, once: true});
  const value = () => {
    const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
        .find(e => e.innerText.includes('Epoch'));
    return m && m.querySelector('[data-testid="stMetricValue"]')?.innerText;
  };
  let last = value();
  new MutationObserver(() => {
    const text = value();
    if (text && text !== last) { last = text; if (window.__after) window.__after.push(text); }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def test_pause_stops_the_counter_within_one_refresh(page, fresh_app_url, idle):
    page.goto(f"{fresh_app_url}/playground?dataset=spiral&hidden=6,6&lr=0.03")
    idle(page, timeout_s=120)
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_timeout(3000)
    page.evaluate(RECORD_AFTER_CLICK, "Pause")
    page.get_by_role("button", name="⏸ Pause").click()
    page.get_by_role("button", name="▶ Play").wait_for()
    idle(page)
    page.wait_for_timeout(1500)
    changes = page.evaluate("() => window.__after")
    # What may still show after the click: a refresh the server had already sent (on the wire
    # or not yet painted), and the chunk in progress, which a pause stops after its current
    # epoch (the server log shows it: the pause lands mid-chunk, one more epoch, then none).
    # A pause that reached the server only after further chunks would add more values here.
    assert changes is not None and len(changes) <= 2, changes
    assert len(set(changes)) == len(changes)
    held = epoch(page)
    page.get_by_role("button", name="Step one epoch").click()
    idle(page)
    assert epoch(page) == held + 1
    assert page.locator('[data-testid="stException"]').count() == 0


def slider_value(page, label: str) -> str:
    slider = page.locator('[data-testid="stSlider"]').filter(has_text=label)
    return slider.locator('[data-testid="stSliderThumbValue"]').inner_text()


def url_params(page) -> dict:
    from urllib.parse import parse_qs, urlparse

    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}


def go_to(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()


def test_a_sidebar_round_trip_keeps_settings_url_and_the_trained_network(
        page, fresh_app_url, idle):
    page.goto(f"{fresh_app_url}/playground?dataset=gauss&hidden=3&lr=0.1&train_pct=70&batch_size=32"
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


def test_a_learning_rate_change_while_playing_keeps_the_epoch_count(page, fresh_app_url, idle):
    page.goto(f"{fresh_app_url}/playground?dataset=xor&hidden=4,4&lr=0.03")
    idle(page, timeout_s=120)
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_timeout(2500)
    before = epoch(page)
    assert before > 0
    page.evaluate(RECORD_EPOCHS)
    lr = page.locator('[data-testid="stSlider"]').filter(has_text="Learning rate")
    lr.get_by_role("slider").focus()
    lr.get_by_role("slider").press("ArrowRight")                    # 0.03 -> 0.1
    page.wait_for_function("() => location.search.includes('lr=0.1')", timeout=120_000)
    page.wait_for_timeout(1500)
    shown = [int(text.replace(",", "")) for text in page.evaluate("() => window.__epochs")]
    assert min(shown) >= before and shown[-1] > before              # on from where it was
    assert page.get_by_role("button", name="⏸ Pause").count() == 1   # still playing
    page.get_by_role("button", name="⏸ Pause").click()
    page.get_by_role("button", name="▶ Play").wait_for()
    idle(page)
    assert slider_value(page, "Learning rate") == "0.1"
    assert page.locator('[data-testid="stException"]').count() == 0


DRAWN_PIXELS = """canvas => {
  // Pixels that are neither blank nor white: the canvas was drawn on.
  const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0;
  for (let k = 0; k < px.length; k += 4) {
    if (px[k + 3] > 0 && (px[k] < 250 || px[k + 1] < 250 || px[k + 2] < 250)) drawn++;
  }
  return drawn / (px.length / 4);
}"""


def test_the_view_is_drawn_in_the_browser_without_media_and_an_edge_edit_changes_the_output(
        page, fresh_app_url, idle):
    failed = []
    page.on("response", lambda r: failed.append(r.url) if "/media/" in r.url
            and "/static/" not in r.url and r.status >= 400 else None)
    page.goto(f"{fresh_app_url}/playground?dataset=xor&hidden=4,2&lr=0.03")
    idle(page, timeout_s=120)
    out, net = page.locator("canvas.pgv-out-canvas"), page.locator("canvas.pgv-net-canvas")
    assert out.evaluate(DRAWN_PIXELS) > 0.5 and net.evaluate(DRAWN_PIXELS) > 0.05
    view = page.locator("div.pgv")
    draws = int(view.get_attribute("data-draws"))
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_timeout(5000)
    page.get_by_role("button", name="⏸ Pause").click()
    page.get_by_role("button", name="▶ Play").wait_for()
    idle(page)
    assert failed == []                                     # no media request failed while playing
    assert int(view.get_attribute("data-draws")) > draws + 2    # it redrew while playing
    assert int(view.get_attribute("data-epoch")) == epoch(page) > 0

    data = "el => el.__pgv.data"
    before = view.evaluate(data)
    layer, i, j, x, y = [e for e in json.loads(net.get_attribute("data-edges")) if e[0] == 2][0]
    box = net.bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    assert page.locator("div.pgv-tip").inner_text().startswith("Weight ")   # hover shows it
    page.mouse.click(box["x"] + x, box["y"] + y)
    editor = page.locator("div.pgv-edit input")
    editor.fill("5")
    editor.press("Enter")
    page.wait_for_function(f"""() => {{
        const el = [...document.querySelectorAll('*')].map(e => e.shadowRoot)
          .filter(Boolean).map(r => r.querySelector('div.pgv')).find(Boolean);
        return el && el.__pgv.data.weights[{layer}][{j}][{i}] === 5;
    }}""")
    idle(page)
    after = view.evaluate(data)
    assert after["epoch"] == before["epoch"]                # paused: only the edit changed it
    assert max(abs(a - b) for a, b in zip(after["output"], before["output"])) > 0.01
    assert page.get_by_text("Weight neuron").count() == 1   # the page says what changed
    assert page.locator('[data-testid="stException"]').count() == 0


def test_an_uploaded_csv_trains_on_the_plane(page, fresh_app_url, idle, tmp_path):
    from urllib.parse import unquote_plus

    import numpy as np

    rng = np.random.default_rng(0)
    points = rng.normal(size=(200, 2))
    rows = ["height,weight,kind"] + [f"{170 + 10 * a:.2f},{70 + 5 * b:.2f},{'ab'[int(a * b > 0)]}"
                                     for a, b in points]
    csv = tmp_path / "people.csv"
    csv.write_text("\n".join(rows))
    page.goto(f"{fresh_app_url}/playground?hidden=6,6&lr=0.1&features=x1,x2,x1x2")
    idle(page, timeout_s=120)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.locator('[data-testid="stSelectbox"]').filter(
        has=page.get_by_text("Dataset", exact=True)).click()           # the Dataset selectbox
    page.keyboard.type("your CSV")   # the list scrolls: filter it to the one option
    page.get_by_role("option", name="your CSV (upload)").click()
    idle(page)
    uploader = sidebar.locator('[data-testid="stFileUploader"]').filter(has_text="Your CSV")
    uploader.locator('input[type="file"]').set_input_files(str(csv))
    idle(page)
    assert sidebar.get_by_text("x1 column").count() == 1
    for _ in range(3):
        page.get_by_role("button", name="Step one epoch").click()
        idle(page)
    assert epoch(page) == 3
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_timeout(2000)
    page.get_by_role("button", name="⏸ Pause").click()
    page.get_by_role("button", name="▶ Play").wait_for()
    idle(page)
    assert epoch(page) > 3
    assert "upload=people.csv: height, weight → kind" in unquote_plus(page.url)
    assert page.locator('[data-testid="stException"]').count() == 0
    # the whole page, for a person to look at (Streamlit's main area scrolls inside)
    page.set_viewport_size({"width": 1400, "height": 3000})
    idle(page)
    page.screenshot(path=str(tmp_path / "playground_upload.png"), full_page=True)
