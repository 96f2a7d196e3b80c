"""Green AI lesson: the efficiency race trains through the Trainer and reports the Trainer's own
FLOPs and energy, checked against codecarbon's tracker; stored runs' footprints; Strubell et
al.'s figures and the conversions built on them; tables without raw NaN or None."""

from __future__ import annotations

import pandas as pd
import pytest

from nnplay import data
from nnplay.lessons import green_ai
from nnplay.lessons.green_ai import EfficiencyRace
from nnplay.train import green, runs
from nnplay.train.jobs import Cancelled

TWO = ("linear", "small MLP")


@pytest.fixture(scope="module")
def digits():
    return data.load("digits")


@pytest.fixture(scope="module")
def race(digits):
    return EfficiencyRace(TWO, epochs=3, country="FRA").fit(digits)


def test_race_reports_the_trainers_own_footprint(race, digits):
    table = race.results_.set_index("architecture")
    assert list(table.index) == list(TWO)
    for name in TWO:
        trainer = race.trainers_[name]
        spent = trainer.footprint("FRA")
        row = table.loc[name]
        assert trainer.status == "completed" and trainer.epoch == 3
        assert row["flops"] == spent.flops == trainer.history[-1]["flops"] > 0
        assert row["test_accuracy"] > 0.5                        # chance is 0.1
        if spent.energy_kwh is None:
            assert pd.isna(row["energy_kwh"]) and pd.isna(row["accuracy_per_kj"])
            continue
        assert row["energy_kwh"] == pytest.approx(spent.energy_kwh) and row["energy_kwh"] > 0
        assert row["co2_kg"] == pytest.approx(spent.energy_kwh * 56.039 / 1000)
        assert row["accuracy_per_kj"] == pytest.approx(
            row["test_accuracy"] / (row["energy_kwh"] * 3600))
    assert table.loc["small MLP", "flops"] > table.loc["linear", "flops"]
    assert table.loc["linear", "accuracy_per_gflop"] == pytest.approx(
        table.loc["linear", "test_accuracy"] / (table.loc["linear", "flops"] / 1e9))
    assert race.dataset_ is digits and race.power_.endswith(".")


def test_flops_are_the_same_on_every_seed(digits):
    """FLOPs depend on the architecture and the data's shape, not on luck or the machine."""
    flops = [EfficiencyRace(("small MLP",), epochs=1, seed=seed, check_with_codecarbon=False)
             .fit(digits).results_["flops"].iloc[0] for seed in (0, 1, 2)]
    assert flops[0] > 0 and flops == [flops[0]] * 3


def test_codecarbons_tracker_checks_the_estimate(race):
    readings = race.codecarbon_.values()
    if not green.power_model().available:
        pytest.skip("no power model on this machine")
    assert all(not r.error and r.energy_kwh > 0 for r in readings)
    ours, theirs = race.results_["energy_kwh"].sum(), race.results_["codecarbon_kwh"].sum()
    assert ours == pytest.approx(theirs, rel=0.35)       # same power model, slightly wider window
    assert f"{ours / theirs:.0%} of it" in race.codecarbon_check()


def test_verdict_and_tables_are_built_from_the_numbers(race):
    table = race.results_
    best = table.loc[table["test_accuracy"].idxmax()]
    assert f"the {best['architecture']} ({best['test_accuracy']:.1%})" in race.verdict()
    shown = green_ai.formatted_results(race.table("USA"))
    text = shown.to_string()
    assert "nan" not in text.lower() and "None" not in text
    assert list(shown["test accuracy"]) == [f"{v:.1%}" for v in table["test_accuracy"]]
    usa = race.table("USA")["co2_kg"].dropna()
    if len(usa):
        fra = race.table("FRA")["co2_kg"].dropna()
        assert (usa / fra).tolist() == pytest.approx([369.473 / 56.039] * len(usa))


def test_settings_that_cannot_work_say_so(digits):
    with pytest.raises(ValueError, match="Choose architectures"):
        EfficiencyRace(("giant",)).check(digits)
    with pytest.raises(ValueError, match="needs images"):
        EfficiencyRace(("CNN",)).check(data.load("iris"))
    with pytest.raises(ValueError, match="classification"):
        EfficiencyRace(("linear",)).check(data.load("diabetes"))
    with pytest.raises(ValueError, match="ISO 3166"):
        EfficiencyRace(("linear",), country="Atlantis").check(digits)
    with pytest.raises(ValueError, match="epochs"):
        EfficiencyRace(("linear",), epochs=0).check(digits)


def test_a_stop_keeps_the_finished_architectures(digits):
    race = EfficiencyRace(TWO, epochs=2, check_with_codecarbon=False)
    with pytest.raises(Cancelled) as stopped:
        race.fit(digits, should_stop=lambda: len(getattr(race, "results_", ())) >= 1)
    assert stopped.value.result is race and list(race.results_["architecture"]) == ["linear"]
    assert "Most accurate: the linear" in race.verdict()


def test_stored_runs_with_and_without_a_footprint(race):
    store = runs.RunStore()
    trainer = race.trainers_["linear"]
    record = runs.make_record(trainer, race.specs_["linear"], lesson="green_ai", name="linear")
    new_id = store.save(record)
    old = {k: v for k, v in record.items() if k != "green"}
    old["history"] = [{"epoch": 1, "loss": 1.0}]
    store.save(old)                                    # recorded before Green AI
    mine = green_ai.runs_footprint(store.list(), "DEU")
    assert list(mine["id"]) == [new_id]
    assert mine["flops"].iloc[0] == trainer.green.flops
    if trainer.green.energy_kwh is not None:
        assert mine["co2_kg"].iloc[0] == pytest.approx(
            green.co2_kg(trainer.green.energy_kwh, "DEU"))
    text = green_ai.formatted_runs(mine).to_string()
    assert "FLOP" in text and "nan" not in text.lower()
    assert green_ai.runs_footprint(pd.DataFrame(), "DEU").empty


def test_strubell_figures_and_their_conversions():
    table = green_ai.strubell_table().set_index("what")
    nas = table.loc["The Transformer (big) with neural architecture search"]
    assert nas["lbs_co2e"] == 626_155
    assert nas["kg_co2e"] == pytest.approx(626_155 * 0.45359237)
    assert nas["energy_kwh"] == pytest.approx(626_155 / 0.954)       # 656,347 kWh
    assert table.loc["Training a Transformer (big)", "energy_kwh"] == pytest.approx(192 / 0.954)
    assert pd.isna(table.loc["Human life, average, 1 year", "energy_kwh"])
    view = green_ai.perspective(co2_kg=0.001, energy_kwh=1e-5)
    assert view["runs_by_co2"].iloc[-1] == pytest.approx(626_155 * 0.45359237 / 0.001)
    sentence = green_ai.perspective_sentence(0.001, 1e-5, "your race")
    assert "656,347 kWh" in sentence and "65.6 billion times the energy of your race" in sentence
    assert "unavailable" in green_ai.perspective_sentence(None, None, "your race")
    shown = green_ai.formatted_perspective(view).to_string()
    assert "626,155" in shown and "nan" not in shown.lower()


def test_times_reads_like_words():
    assert green_ai.times(3.6) == "3.6x" and green_ai.times(364.4) == "364x"
    assert green_ai.times(3.6e10) == "36 billion times"


def test_flops_and_energy_can_rank_differently():
    race = EfficiencyRace(("wide MLP", "CNN"))
    race.results_ = pd.DataFrame([
        {"architecture": "wide MLP", "flops": 12e9, "energy_kwh": 28 / 3.6e6, "seconds": 2.0},
        {"architecture": "CNN", "flops": 2e9, "energy_kwh": 355 / 3.6e6, "seconds": 31.0}])
    text = race.flops_against_energy()
    assert text.startswith("FLOPs and energy disagree here: the CNN did 6x fewer FLOPs than "
                           "the wide MLP but used 13x its energy (31.0 s against 2.0 s)")
    race.results_.loc[1, "energy_kwh"] = 1 / 3.6e6
    assert race.flops_against_energy() == ""


def test_count_words():
    assert green_ai.count_words(1.74e7) == "17.4 million"
    assert green_ai.count_words(3.6e10) == "36 billion"
    assert green_ai.count_words(412.3) == "412" and green_ai.count_words(None) == "-"
