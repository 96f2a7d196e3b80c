"""The three labs in headless Chromium, as a learner uses them: a small MNIST grid, then a digit
drawn with the mouse; the pretrained network on the sample cat photo, then the offline transfer
curve; a sentence through the tokenizer and the frozen classifier, then the four methods side by
side with a short fine-tuning run."""

import os
import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]
RAW = re.compile(r"\b(?:nan|NaN|None|inf)\b")       # never shown to a person


def no_exception(page, name: str) -> None:
    """No exception and no raw nan/None on the page; a screenshot when NNPLAY_SCREENSHOTS is a
    folder."""
    if os.environ.get("NNPLAY_SCREENSHOTS"):
        Path(os.environ["NNPLAY_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(os.environ["NNPLAY_SCREENSHOTS"]) / f"{name}.png"),
                        full_page=True)
    assert page.locator('[data-testid="stException"]').count() == 0
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert not RAW.search(text), RAW.search(text).group(0)


def wait_for_text(page, idle, text: str, timeout_s: float) -> None:
    page.get_by_text(text).first.wait_for(timeout=timeout_s * 1000)
    idle(page, timeout_s=timeout_s)


def test_mnist_lab_trains_a_grid_and_reads_a_drawn_digit(page, app_url, idle):
    page.goto(f"{app_url}/lab_mnist")
    idle(page, timeout_s=120)
    main = page.locator('[data-testid="stMain"]')
    epochs = main.get_by_label("Epochs (each)")
    epochs.fill("1")
    epochs.press("Enter")
    idle(page)
    main.get_by_role("button", name="Train the grid").click()
    wait_for_text(page, idle, "cells trained on", 300)
    assert main.locator('[data-testid="stDataFrame"]').count() >= 1
    main.locator(".js-plotly-plot").first.wait_for()           # the heatmap
    canvas = main.locator("canvas").last
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    for k in range(1, 11):                                      # a vertical stroke: a one
        page.mouse.move(x, box["y"] + box["height"] * (0.2 + 0.06 * k))
    page.mouse.up()
    wait_for_text(page, idle, " says ", 60)
    said = main.get_by_text(re.compile(r" says \d")).first.inner_text()
    assert re.search(r"says (\d) \(\d+%\); next is \d", said), said
    assert main.get_by_text("most confident mistakes").count() >= 1
    no_exception(page, "lab_mnist")


def test_transfer_lab_names_the_cat_and_draws_the_offline_curve(page, app_url, idle):
    page.goto(f"{app_url}/lab_transfer")
    idle(page, timeout_s=180)
    main = page.locator('[data-testid="stMain"]')
    wait_for_text(page, idle, "Its best guess is", 120)
    guess = main.get_by_text("Its best guess is").first.inner_text()
    assert re.search(r"best guess is [A-Za-z ]*cat", guess), guess
    main.get_by_text("Digits 5-9 with a CNN pretrained on 0-4").click()
    idle(page, timeout_s=120)
    main.get_by_role("button", name="Start").click()
    wait_for_text(page, idle, "3. What the curve shows", 400)
    findings = main.get_by_text("labelled images per class, the best pretrained").first
    assert re.search(r"scores \d+\.\d% test accuracy against \d+\.\d%", findings.inner_text())
    assert main.locator(".js-plotly-plot").count() >= 2        # top 5 and the curve
    no_exception(page, "lab_transfer")


def test_sentiment_lab_looks_inside_a_sentence_and_compares_four_methods(page, app_url, idle):
    page.goto(f"{app_url}/lab_sentiment")
    idle(page, timeout_s=180)
    main = page.locator('[data-testid="stMain"]')
    wait_for_text(page, idle, "2. The prediction", 300)        # the frozen classifier trained
    assert main.get_by_text("1. The tokenizer").count() == 1
    assert main.get_by_text("4. Which tokens drove it").count() == 1
    no_exception(page, "lab_sentiment_sentence")
    main.get_by_role("tab", name="Four methods side by side").click()
    idle(page)
    steps = main.get_by_label("Fine-tuning steps")
    steps.fill("10")
    steps.press("Enter")
    idle(page)
    reviews = main.get_by_role("slider").first                 # the fewest reviews
    reviews.focus()
    reviews.press("Home")
    idle(page)
    main.get_by_role("button", name="Run the comparison").click()
    main.get_by_test_id("stDataFrame").first.wait_for(timeout=600_000)
    idle(page, timeout_s=120)
    charts = " ".join(main.locator(".js-plotly-plot").all_text_contents())
    for method in ("VADER", "TF-IDF"):                          # the accuracy chart's bars
        assert method in charts, charts[:500]
    no_exception(page, "lab_sentiment")
