"""Browser refresh rate of the Playground: start `streamlit run pages/playground.py` on
127.0.0.1, open it in headless Chromium, press play, count how often the epoch counter changes
over a few seconds, press pause and check the counter stops within one refresh.

    .venv/bin/python bench/playground_refresh.py [--seconds 5] [--query "dataset=spiral&..."]

Target from the Playground issue: >= 5 refreshes per second; pause effective within one refresh.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from appserver import start_streamlit  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking"]
EPOCH_VALUE = '[data-testid="stMetric"]:has-text("Epoch") [data-testid="stMetricValue"]'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log) -> subprocess.Popen:
    return start_streamlit(ROOT / "pages" / "playground.py", ROOT, port,
                           Path(tempfile.mkdtemp()) / "runs.sqlite", log, timeout_s=90)


def read_epoch(page) -> int:
    return int(page.locator(EPOCH_VALUE).first.inner_text().replace(",", ""))


OBSERVER_JS = """() => {
  // Record (ms, text) each time the epoch counter's text changes, from inside the page, so the
  // measurement itself does not compete with the page for the CPU.
  window.__epochs = [];
  const find = () => [...document.querySelectorAll('[data-testid="stMetric"]')]
      .find(m => m.innerText.includes('Epoch'));
  let last = null;
  const tick = () => {
    const m = find();
    const v = m && m.querySelector('[data-testid="stMetricValue"]');
    const text = v ? v.innerText : null;
    if (text !== null && text !== last) { window.__epochs.push([performance.now(), text]); last = text; }
  };
  new MutationObserver(tick).observe(document.body, {subtree: true, childList: true, characterData: true});
  tick();
}"""


def watch(page, seconds: float) -> list[tuple[float, int]]:
    """(seconds, epoch) each time the counter shows a new value, recorded in the page."""
    page.evaluate(OBSERVER_JS)
    page.wait_for_timeout(int(seconds * 1000))
    rows = page.evaluate("() => window.__epochs")
    if not rows:
        return []
    t0 = rows[0][0]
    return [((ms - t0) / 1e3, int(text.replace(",", ""))) for ms, text in rows]


def measure(url: str, seconds: float) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(90_000)
        page.goto(url)
        page.locator(EPOCH_VALUE).first.wait_for()
        page.get_by_role("button", name="▶ Play").click()
        page.locator(EPOCH_VALUE).filter(has_not_text="0").first.wait_for()
        changes = watch(page, seconds)
        page.get_by_role("button", name="⏸ Pause").click()
        clicked = time.perf_counter()
        after_pause = watch(page, 2.0)  # times are from the first value seen after the click
        page.get_by_role("button", name="▶ Play").wait_for()
        browser.close()
    span = changes[-1][0] - changes[0][0] if len(changes) > 1 else float("nan")
    refresh_s = span / (len(changes) - 1) if len(changes) > 1 else float("nan")
    last_change = after_pause[-1][0] if after_pause else 0.0
    return {"refreshes_per_s": (len(changes) - 1) / span if span else float("nan"),
            "epochs_per_s": (changes[-1][1] - changes[0][1]) / span if span else float("nan"),
            "refresh_ms": 1e3 * refresh_s, "changes_after_pause": len(after_pause) - 1,
            "last_change_after_pause_ms": 1e3 * last_change,
            "pause_seconds_measured_from": clicked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--query", default="dataset=spiral&hidden=8,8,8&optimizer=adam"
                                           "&batch_size=32&epochs=20000&show_test=1")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        proc = start_server(port, log)
        try:
            result = measure(f"http://127.0.0.1:{port}/?{args.query}", args.seconds)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"Playground in Chromium ({args.query}), {args.seconds:g} s of play:")
    print(f"  {result['refreshes_per_s']:.1f} refreshes/s (one every {result['refresh_ms']:.0f} ms), "
          f"{result['epochs_per_s']:.0f} epochs/s shown; target >= 5 refreshes/s -> "
          f"{'met' if result['refreshes_per_s'] >= 5 else 'NOT met'}")
    print(f"  after pause: {result['changes_after_pause']} counter change(s), the last "
          f"{result['last_change_after_pause_ms']:.0f} ms after the click; target <= 1 -> "
          f"{'met' if result['changes_after_pause'] <= 1 else 'NOT met'}")


if __name__ == "__main__":
    main()
