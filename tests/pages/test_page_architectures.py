"""Headless tests of pages/architectures.py: the guide's suggestion for a dataset, the race's
widgets starting at the engine's default race, and a short MLP-vs-CNN race whose shown numbers
and verdict are the race's, with both models registered."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from nnplay.lessons import architectures as archcompare


@pytest.fixture
def page(open_page) -> AppTest:
    return open_page("architectures")


@pytest.fixture
def finish(finish_job):
    """Wait for the page's background job, then run the page once more to draw its result."""
    return lambda at: finish_job(at, "arch_job")


def suggestion(at: AppTest) -> str:
    return next(m.value for m in at.markdown if "Start with" in m.value)


def test_guide_suggests_an_architecture_for_the_chosen_data(page):
    assert "Start with **cnn**" in suggestion(page)
    page.selectbox(key="arch_fit_dataset").set_value("breast_cancer").run()
    assert "Start with **mlp**" in suggestion(page)
    page.selectbox(key="arch_fit_dataset").set_value("sort_sequence").run()
    assert "Start with **transformer**" in suggestion(page)


def test_race_widgets_start_at_the_default_race(page):
    """The default race is the one tests/lessons/test_architectures.py measured over seeds."""
    assert page.selectbox(key="arch_dataset").value == archcompare.RACE_DATASETS[0] == "mnist5k"
    assert page.selectbox(key="arch_hidden").value == ", ".join(
        map(str, archcompare.DEFAULT_MLP_HIDDEN))
    assert page.selectbox(key="arch_channels").value == ", ".join(
        map(str, archcompare.DEFAULT_CNN_CHANNELS))
    assert page.number_input(key="arch_epochs").value == archcompare.DEFAULT_EPOCHS
    assert not page.checkbox(key="arch_shuffle").value
    assert any("about half the MLP's parameters" in m.value for m in page.markdown)


def test_race_shows_both_models_numbers_and_registers_them(page, finish):
    page.number_input(key="arch_epochs").set_value(2).run()
    page.button(key="arch_race").click().run()
    finish(page)
    assert not page.exception
    race = page.session_state["arch_job"]["worker"].result
    shown = {m.label: m.value for m in page.metric}
    for family in ("mlp", "cnn"):
        row = race.results_.loc[family]
        assert shown[f"{family.upper()} test accuracy"] == f"{row['test_accuracy']:.3f}"
        assert any(f"{row['params']:,} parameters" in c.value for c in page.caption)
        assert row["test_accuracy"] > 0.3  # chance is 0.1
    assert any(m.value == race.verdict() for m in page.markdown)
    workspace = page.session_state["nnplay_workspace"]
    group = workspace.list()[0].group
    assert group.startswith("race 1: mnist5k")   # the race's two models are one group
    assert sorted(m.family for m in workspace.group(group)) == ["cnn", "mlp"]
    assert all(m.lesson == "architectures" and m.record.run_id for m in workspace.group(group))
    assert len(page.session_state["arch_races"]) == 2
    page.checkbox(key="arch_shuffle").check().run()
    page.button(key="arch_race").click().run()
    finish(page)
    assert not page.exception
    runs = {r["run"] for r in page.session_state["arch_races"]}
    assert len(runs) == 2 and any("shuffled" in r for r in runs)
