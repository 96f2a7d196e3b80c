"""Headless tests of pages/why_now.py: the hardware measured on opening, a small data experiment
and a small recipe race whose shown sentences are the engine's verdicts with real numbers, bad
settings as messages, and results kept when the page is drawn again."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest


@pytest.fixture
def page(open_page, finish_job) -> AppTest:
    """The page opened, with its first-visit hardware measurement finished and drawn."""
    at = open_page("why_now", timeout=120)
    return finish_job(at, "why_hardware_job", timeout=300)


def shown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


@pytest.mark.slow
def test_hardware_is_measured_on_opening(page):
    bench = page.session_state["why_now_results"]["hardware"]
    table = bench.results_
    assert table.iloc[0]["setting"] == "1 CPU thread" and table.iloc[0]["matmul_gflops"] > 0
    if len(table) > 1:
        assert bench.verdict() in shown(page)
        assert re.search(r"[\d.]+x as fast as one CPU thread", shown(page))
    assert all(note in [c.value for c in page.caption] for note in bench.caveats())
    assert "nan" not in shown(page) and "None" not in shown(page)


@pytest.mark.slow
def test_data_and_algorithm_experiments_show_their_verdicts(page, finish_job):
    page.multiselect(key="why_sizes").set_value([30, 100]).run()
    page.select_slider(key="why_steps").set_value(50).run()
    page.button(key="why_data_run").click().run()
    finish_job(page, "why_data_job", timeout=300)
    scaling = page.session_state["why_now_results"]["data"]
    assert len(scaling.results_) == 4 and scaling.results_["test_accuracy"].min() > 0.2
    assert scaling.verdict() in shown(page)
    assert re.search(r"the linear model gained -?\d+\.\d points", shown(page))

    page.slider(key="why_depth").set_value(3).run()
    page.number_input(key="why_epochs").set_value(2).run()
    page.button(key="why_algo_run").click().run()
    finish_job(page, "why_algo_job", timeout=300)
    race = page.session_state["why_now_results"]["algorithms"]
    assert len(race.histories_) == 4 and race.verdict() in shown(page)
    assert re.search(r"reached \d+\.\d% test accuracy with the 2015 recipe", shown(page))
    page.run()                                   # drawn again: the results stay
    assert not page.exception and race.verdict() in shown(page)
    assert scaling.verdict() in shown(page)


@pytest.mark.slow
def test_impossible_settings_are_messages(page):
    page.multiselect(key="why_sizes").set_value([100]).run()
    assert not page.exception
    assert any("at least two training-set sizes" in e.value for e in page.error)
    assert not [b for b in page.button if b.key == "why_data_run"]
