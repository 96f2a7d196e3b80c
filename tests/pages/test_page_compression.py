"""Headless tests of pages/compression.py: a learner without a model gets the mnist5k MLP trained
on the spot and every variant measured in the background, with real numbers in the table and
the summary kept for the model card; an LSTM gets "not applicable" rows (and ONNX Runtime rows) instead of errors; a
CNN from the session runs the lottery-ticket experiment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nnplay import data
from nnplay.models import ModelSpec
from nnplay.production import compress
from nnplay.train.quick import default_config, quick_trainer
from nnplay.train.workspace import Workspace

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "compression.py")
RAW = re.compile(r"\b(nan|None|NaN)\b")


def shown_text(at) -> list[str]:
    """Everything the page wrote: markdown, captions, notices and every table cell."""
    texts = [e.value for group in (at.markdown, at.caption, at.info, at.warning, at.error,
                                   at.success) for e in group]
    for frame in at.dataframe:
        texts += [str(v) for v in frame.value.to_numpy().ravel()] + list(frame.value.columns)
    return texts


def session_with(spec, dataset, epochs) -> Workspace:
    trainer = quick_trainer(dataset, spec, default_config(epochs))
    trainer.fit()
    ws = Workspace()
    ws.register(trainer.model, dataset, spec, "training_lab", name=f"{spec.family} model")
    return ws


@pytest.mark.slow
def test_spot_trained_mlp_is_measured_and_recorded(open_page, finish_job):
    at = open_page("compression")
    spot = at.session_state["cmp_spot_job"]["worker"].trainer
    assert spot.dataset.name == "mnist5k" and compress.layer_widths(spot.model) == [256, 128, 10]
    finish_job(at, "cmp_spot_job")          # trained: the measurements start by themselves
    finish_job(at, "cmp_job", timeout=300)
    assert not at.error
    (table,) = at.dataframe
    rows = table.value.set_index("variant")
    fp32, int8 = rows.loc["fp32"], rows.loc["int8 dynamic (ONNX Runtime)"]
    assert fp32["size"].endswith("kB") and fp32["size vs fp32"] == "×1.00"
    assert re.fullmatch(r"\d+\.\d%", fp32["accuracy"])
    assert re.fullmatch(r"[\d.]+ (µs|ms) / [\d.]+ (µs|ms)", fp32["batch 64 (p50 / p95)"])
    assert float(int8["size vs fp32"].lstrip("×")) < 0.3
    assert rows.loc["int8 static (PT2E)", "note"].startswith("not applicable: the model has no "
                                                             "convolutions")
    assert not [t for t in shown_text(at) if RAW.search(t)]
    assert any("Masked zeros give no speed-up" in m.value for m in at.markdown)
    entry = at.session_state["nnplay_workspace"].list()[0]
    finding = entry.findings["compression"]
    assert len(finding["variants"]) == (table.value["size"] != "—").sum()
    # other views of the same numbers, and navigation keeps them (no new job)
    at.radio(key="cmp_threads").set_value("tall").run()
    at.radio(key="cmp_axis").set_value("latency at batch 64").run()
    assert not at.exception and len(at.dataframe) == 1
    assert at.session_state["cmp_job"]["worker"].finished


def test_recurrent_model_gets_not_applicable_rows(finish_job):
    ds = data.load("sine_forecast")
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["nnplay_workspace"] = session_with(ModelSpec("lstm", {"hidden_size": 8}),
                                                        ds, 1)
    at.run()
    assert not at.exception
    assert any("LSTM" in i.value for i in at.info)
    finish_job(at, "cmp_job")
    rows = at.dataframe[0].value.set_index("variant")
    assert "R²" in rows.columns and rows.loc["fp32", "size"] != "—"
    assert rows.loc["int8 dynamic (torchao)", "note"].startswith("not applicable: its LSTM")
    assert rows.loc["structured 50%", "R²"] == "—"
    assert not [t for t in shown_text(at) if RAW.search(t)]


def test_cnn_from_the_session_and_the_lottery_ticket(finish_job):
    ds = data.load("digits")
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["nnplay_workspace"] = session_with(
        ModelSpec("cnn", {"channels": [4, 8], "hidden": [16]}), ds, 8)
    at.run()
    finish_job(at, "cmp_job", timeout=300)
    rows = at.dataframe[0].value.set_index("variant")
    assert rows.loc["int8 static (PT2E)", "size"] != "—"          # convolutions: it applies
    assert rows.loc["int8 static (ONNX Runtime)", "size"] != "—"
    at.toggle(key="cmp_ticket").set_value(True).run()
    at.button(key="cmp_ticket_go").click().run()
    finish_job(at, "cmp_ticket_job")
    assert any(c.value.startswith("Rewound: ") for c in at.caption)
    assert not [t for t in shown_text(at) if RAW.search(t)]
