"""Headless tests of pages/green_ai.py: how energy is known here is said on opening, the country
changes the grid's intensity, a short race shows the race's own numbers and registers its models
(stored with their footprint, listed under Your runs), the perspective uses the race's totals,
and nothing on the page reads nan or None."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from nnplay.lessons import green_ai
from nnplay.train import green


@pytest.fixture
def page(open_page) -> AppTest:
    return open_page("green_ai")


def frame(at: AppTest, column: str):
    """The shown table that has ``column`` (st.dataframe keys do not reach AppTest)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [i.value for i in at.info] + [w.value for w in at.warning]
    return "\n".join(parts)


def test_opening_says_how_energy_is_estimated_here(page):
    assert any(i.value == green.power_model().describe() for i in page.info)
    if green.power_model().source == "tdp":
        assert any("Estimated, not measured" in i.value for i in page.info)
    assert page.selectbox(key="green_country_pick").value == green.default_country()
    page.selectbox(key="green_country_pick").set_value("FRA").run()
    assert any("France: 56 g CO2e per kWh" in c.value for c in page.caption)
    assert "626,155" in frame(page, "lbs CO2e (theirs)").to_string()   # Strubell et al.
    assert "Run the race above" in texts(page)


@pytest.mark.slow
def test_a_race_shows_its_numbers_and_stores_its_runs(page, finish_job):
    page.multiselect(key="green_archs").set_value(["linear", "small MLP"]).run()
    page.number_input(key="green_epochs").set_value(2).run()
    page.button(key="green_run").click().run()
    finish_job(page, "green_job", timeout=300)
    race = page.session_state["green_race"]
    shown = frame(page, "architecture")
    assert list(shown["test accuracy"]) == [f"{v:.1%}" for v in race.results_["test_accuracy"]]
    assert list(shown["training FLOPs"]) == [green.format_flops(v)
                                             for v in race.results_["flops"]]
    assert race.verdict() in texts(page) and race.codecarbon_check() in texts(page)
    workspace = page.session_state["nnplay_workspace"]
    models = workspace.list(lesson="green_ai")
    assert len(models) == 2 and all(m.record.run_id for m in models)
    assert models[0].history[-1]["flops"] > 0                 # the model card reads these
    stored = frame(page, "run")
    assert len(stored) == 2 and all("FLOP" in v for v in stored["training FLOPs"])
    totals = race.table(green.default_country())
    sentence = green_ai.perspective_sentence(totals["co2_kg"].sum(), totals["energy_kwh"].sum(),
                                             "your race")
    if totals["energy_kwh"].notna().any():
        assert sentence in texts(page)
    assert " nan" not in texts(page).lower() and "None" not in texts(page)
    for shown_table in page.dataframe:
        assert "nan" not in shown_table.value.to_string().lower()
        assert "None" not in shown_table.value.to_string()
    page.selectbox(key="green_country_pick").set_value("FRA").run()
    assert frame(page, "architecture")["CO2e"].tolist() == [
        green.format_co2(v) for v in race.table("FRA")["co2_kg"]]


def test_impossible_settings_are_messages(page):
    page.multiselect(key="green_archs").set_value([]).run()
    assert not page.exception
    assert any("Choose architectures" in e.value for e in page.error)
