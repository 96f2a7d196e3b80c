"""Headless tests of pages/sequences.py: the signal and the gradient each cell starts with are
shown before any training, a short forecaster with its insides, and the memory race over several
gaps T: accuracy against T, verdicts against chance (only a clear win is green), results cached
per (T, cell, settings), models registered, and no raw nan/None/inf anywhere."""

from __future__ import annotations

import base64
import re

import numpy as np
import plotly.io as pio

from nnplay.lessons import sequences as lab
from nnplay.train import evaluate

RAW = re.compile(r"\b(nan|NaN|None|inf|Infinity)\b")


def charts(at) -> dict:
    """Each plotly chart's Figure (arrays decoded), by the key the page gave it."""
    return {c.proto.id.rsplit("-", 1)[-1]: pio.from_json(c.proto.spec, skip_invalid=True)
            for c in at.get("plotly_chart")}


def values(array) -> np.ndarray:
    """A trace's numbers: plotly sends numpy arrays base64-encoded as {"dtype", "bdata"}."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array, dtype=float)


def shown_text(at) -> list[str]:
    texts = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "latex")
             for e in getattr(at, kind)]
    texts += [m.label for m in at.metric] + [m.value for m in at.metric]
    texts += [m.delta or "" for m in at.metric] + [b.label for b in at.button]
    return texts


def assert_no_raw_numbers(at) -> None:
    for text in shown_text(at):
        assert not RAW.search(text), text


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_page_opens_with_the_signal_and_the_vanishing_gradient_of_a_plain_rnn(open_page):
    page = open_page("sequences")
    figures = charts(page)
    signal = figures["seq_signal_fig"].data
    assert len(signal) == 8 and all(len(values(trace.y)) > 0 for trace in signal)  # 4 windows + next
    gradient = figures["seq_mem_gtt_fig"]
    assert [t.name for t in gradient.data] == ["plain RNN", "LSTM", "GRU"]
    axis = gradient.layout.yaxis
    assert axis.type == "log" and axis.exponentformat == "power"
    assert "(log scale)" in axis.title.text and "T = 50" in gradient.layout.title.text
    rnn = values(gradient.data[0].y)
    assert len(rnn) == 50 and rnn[0] < 1e-2 * rnn[-1]  # vanished 49 steps back from the loss
    caption = next(c.value for c in page.caption if "Share of the gradient" in c.value)
    assert "plain RNN: " in caption and "it vanishes" in caption
    assert "seq_mem_length_fig" not in figures  # nothing raced yet
    assert page.button(key="seq_mem_train").label == "Race the three cells at T = 10, 25, 50"
    assert_no_raw_numbers(page)


def test_forecaster_trains_and_shows_its_states_gates_and_gradients(open_page, finish_job):
    page = open_page("sequences")
    page.number_input(key="seq_epochs").set_value(2).run()
    page.select_slider(key="seq_n").set_value(300).run()
    page.button(key="seq_train").click().run()
    finish_job(page, "seq_job")
    trainer = page.session_state["seq_job"]["worker"].trainer
    assert trainer.status == "completed" and trainer.model.cell == "lstm"
    expected = evaluate(trainer.model, trainer.dataset)
    assert metrics(page)["Test RMSE"] == f"{expected['rmse']:.4f}"
    assert metrics(page)["Test R²"] == f"{expected['r2']:.3f}"
    figures = charts(page)
    assert {"seq_curves", "seq_forecast_fig", "seq_hidden_fig", "seq_pca_fig", "seq_gates_fig",
            "seq_gtt_fig"} <= set(figures)
    gates = figures["seq_gates_fig"]
    axes = ["coloraxis", "coloraxis2", "coloraxis3", "coloraxis4", "coloraxis5"]
    assert [t.coloraxis for t in gates.data] == axes  # one colour scale per gate
    bars = [gates.layout[axis].colorbar.title.text for axis in axes]
    assert bars == ["input", "forget", "cell", "output", "cell_state"]
    assert "(log scale)" in figures["seq_gtt_fig"].layout.yaxis.title.text
    assert "lstm forecaster" in page.session_state["nnplay_workspace"]
    assert_no_raw_numbers(page)
    page.radio(key="seq_source").set_value("A recurrent model from this session").run()
    assert not page.exception and page.selectbox(key="seq_pick").value == "lstm forecaster"


def test_memory_race_charts_accuracy_against_t_with_verdicts_and_caches_per_t(open_page,
                                                                               finish_job):
    page = open_page("sequences")
    page.multiselect(key="seq_mem_gaps").set_value([5, 10]).run()
    page.select_slider(key="seq_mem_n").set_value(200).run()
    page.number_input(key="seq_mem_epochs").set_value(2).run()
    page.button(key="seq_mem_train").click().run()
    finish_job(page, "seq_memory_job")
    job = page.session_state["seq_memory_job"]
    assert job["worker"].status == "completed", (job["worker"].status, job["worker"].error)
    results = page.session_state["seq_memory_results"]
    assert {key[:2] for key in results} == {(t, c) for t in (5, 10) for c in ("rnn", "lstm", "gru")}
    race = charts(page)["seq_mem_length_fig"]
    assert [(t.name, list(values(t.x))) for t in race.data] == \
        [(name, [5, 10]) for name in ("plain RNN", "LSTM", "GRU")]
    # the verdicts at the longest T: green only for a clear win
    assert page.radio(key="seq_mem_detail").value == 10
    for metric in page.metric:
        cell = {"plain RNN accuracy": "rnn", "LSTM accuracy": "lstm", "GRU accuracy": "gru"}[
            metric.label]
        result = results[(10, cell, 0, 200, 2)]
        assert metric.value == f"{result.accuracy:.3f}" and result.chance == 0.25
        level, sentence = lab.chance_verdict(result.accuracy, 0.25, 50)  # 50 test sequences
        assert (metric.proto.color == metric.proto.GREEN) == (level == "success"), level
        assert sentence in {c.value.split(" Training took")[0] for c in page.caption}
    shown = metrics(page)
    assert page.button(key="seq_mem_train").disabled  # nothing left to train at these gaps
    # another gap trains only that gap; going back shows the cached results without training
    page.multiselect(key="seq_mem_gaps").set_value([5, 10, 15]).run()
    button = page.button(key="seq_mem_train")
    assert not button.disabled and button.label == "Race the three cells at T = 15"
    page.multiselect(key="seq_mem_gaps").set_value([5, 10]).run()
    assert metrics(page) == shown
    names = [m.name for m in page.session_state["nnplay_workspace"].list()]
    assert {f"{c} memory T={t}" for t in (5, 10) for c in ("rnn", "lstm", "gru")} <= set(names)
    assert_no_raw_numbers(page)
