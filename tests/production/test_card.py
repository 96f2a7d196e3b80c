"""nnplay.production.card: the nine sections of Mitchell et al. (2019), a Hugging Face YAML header
that parses and holds the measured test metrics, real numbers from a trained model, "unknown"
markers until a lesson measures something and its numbers after, and names that cannot inject
HTML, Markdown or YAML."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import torch

from nnplay import data
from nnplay.data.dataset import Dataset
from nnplay.evaluation import metrics as ev
from nnplay.lessons import bias_audit, robustness
from nnplay.lessons import export as export_lesson
from nnplay.production import card
from nnplay.responsible import fairness
from nnplay.responsible import robustness as rob
from nnplay.train import predict, predict_proba
from nnplay.train.quick import quick_trainer
from nnplay.train.workspace import Workspace

HOSTILE = "<script>alert(1)</script>\n---\nlicense: mit\n# [click](javascript:alert(1)) $x$"


def parse_yaml(text: str):
    """yaml.safe_load when PyYAML is installed; else a parser of the block subset the card
    writes, where every scalar must be valid JSON (which YAML reads the same way)."""
    try:
        import yaml
    except ImportError:
        yaml = None
    if yaml is not None:
        return yaml.safe_load(text)
    lines = [(len(s) - len(s.lstrip(" ")), s.strip()) for s in text.splitlines() if s.strip()]

    def block(i: int, indent: int):
        if lines[i][1].startswith("- "):
            items = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
                rest = lines[i][1][2:]
                if re.match(r"^[\w-]+:( |$)", rest):
                    lines[i] = (indent + 2, rest)
                    value, i = block(i, indent + 2)
                else:
                    value, i = json.loads(rest), i + 1
                items.append(value)
            return items, i
        mapping = {}
        while i < len(lines) and lines[i][0] == indent:
            key, rest = lines[i][1].split(":", 1)
            assert re.fullmatch(r"[\w-]+", key), key
            if rest.strip():
                mapping[key], i = json.loads(rest.strip()), i + 1
            else:
                mapping[key], i = block(i + 1, lines[i + 1][0])
        return mapping, i

    value, end = block(0, 0)
    assert end == len(lines)
    return value


@pytest.fixture(scope="module")
def trained():
    ds = data.load("german_credit")
    trainer = quick_trainer(ds, epochs=4)
    trainer.fit()
    ws = Workspace()
    entry = ws.register(trainer.model, ds, trainer.spec, "training_lab", name=HOSTILE,
                        train_config=trainer.config, history=trainer.history_copy())
    return ws, entry


def no_raw_missing_values(text: str) -> None:
    """No raw float or Python values: 'nan', 'inf', 'None' (a sentence may say "NaN")."""
    assert not re.search(r"\b(nan|inf|None)\b", text)


def test_all_sections_and_a_header_with_the_measured_numbers(trained):
    _, entry = trained
    text = card.model_card(entry)
    assert text.startswith("---\n") and [ln for ln in text.splitlines()].count("---") == 2
    headings = [ln[3:] for ln in text.splitlines() if ln.startswith("## ")]
    assert headings == list(card.SECTIONS)
    header, body = card.split_card(text)
    meta = parse_yaml(header)
    assert meta["library_name"] == "pytorch" and meta["license"] == "other"
    assert meta["datasets"] == ["german_credit"] and "mlp" in meta["tags"]
    (model,) = meta["model-index"]
    assert model["name"] == HOSTILE    # the name survives exactly, inside quotes
    (result,) = model["results"]
    assert result["task"]["type"] == "tabular-classification"
    assert result["dataset"]["split"] == "test"
    # real numbers: the same as nnplay.evaluation computes on the test split
    ds = entry.dataset
    expected = ev.classification_metrics(ds.y_test, predict_proba(entry.model, ds.X_test))
    values = {m["type"]: m["value"] for m in result["metrics"]}
    assert set(values) == set(meta["metrics"]) == {"accuracy", "balanced_accuracy", "f1_macro",
                                                   "roc_auc", "log_loss"}
    assert values["accuracy"] == pytest.approx(expected["accuracy"], abs=1e-6)
    assert 0.6 < values["accuracy"] <= 1.0
    assert f"| accuracy | {expected['accuracy']:.4g} |" in body
    history = entry.record.history
    assert f"**Epochs:** {len(history)} run of 4 planned" in body
    assert f"training {history[-1]['loss']:.4g}" in body
    assert f"**Parameters:** {sum(p.numel() for p in entry.model.parameters()):,}" in body
    assert "- **Rows:** 750 for training" in body and "sex, age, age\\_group" in body
    no_raw_missing_values(text)


def test_unknown_until_measured_then_the_findings(trained):
    ws, entry = trained
    for lesson in ("bias_audit", "robustness", "compression", "export", "monitoring"):
        entry.findings.pop(lesson, None)
    text = card.model_card(entry)
    for lesson in ("bias_audit", "robustness", "compression", "export", "monitoring"):
        assert card.unknown(lesson) in text
    assert "Unknown / not measured (run the Bias audit lesson on this model)" in text

    ds = entry.dataset
    audit = fairness.audit(ds.y_test, predict(entry.model, ds.X_test),
                           ds.extra["sensitive_test"]["sex"], pos_label=1, n_boot=50, seed=0)
    ws.add_finding(entry.name, "bias_audit", bias_audit.finding(audit, ["sex"], "good"))
    noise = rob.tabular_curve(entry.model, ds.X_test, ds.y_test, "noise", [0.0, 1.0, 2.0])
    missing = rob.tabular_curve(entry.model, ds.X_test, ds.y_test, "missing", [0.0, 0.5])
    ws.add_finding(entry.name, "robustness", robustness.finding(
        None, ds.n_test, tabular=pd.concat([noise, missing])))
    ws.add_finding(entry.name, "compression", {"rows": [
        {"variant": "fp32", "size_bytes": 5704, "accuracy": 0.73, "latency_ms": 0.05},
        {"variant": "int8 dynamic", "size_bytes": 2100, "accuracy": 0.72, "latency_ms": 0.04}]})
    results = export_lesson.export_all(entry.model, ds)
    ws.add_finding(entry.name, "export", export_lesson.export_finding(results))
    from nnplay.production import monitor

    stream = monitor.simulate_stream(ds, "sudden", 2.0, 2, 4, 40, 0)
    watched = monitor.run_monitoring(entry.model, ds, stream, label_delay=1)
    ws.add_finding(entry.name, "monitoring", watched.summary())

    text = card.model_card(entry)
    for lesson in ("bias_audit", "robustness", "compression", "export", "monitoring"):
        assert card.unknown(lesson) not in text
    assert f"- **drifted windows:** {watched.summary()['drifted_windows']}" in text
    assert "Not measured on this model yet" not in text
    gaps = f"Demographic parity difference {audit.demographic_parity_difference:.4g}"
    assert gaps in text
    female = audit.by_group.loc["female"]
    assert f"| female | {int(female['count']):,} | {female['selection_rate']:.4g} |" in text
    assert md_escaped(audit.four_fifths_verdict()[1]) in text
    assert f"| noise | 2 | {noise['accuracy'].iloc[-1]:.4g} |" in text
    assert "| int8 dynamic | 2,100 | 0.72 | 0.04 |" in text and "size bytes" in text
    onnx = results["onnx"]
    assert f"| onnx | {onnx.size_bytes / 1000:,.1f} kB | " in text and "| yes |" in text
    no_raw_missing_values(text)


def md_escaped(sentence: str) -> str:
    return card.md(sentence)


def test_hostile_names_cannot_inject_html_markdown_or_yaml():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    y = rng.integers(0, 2, 60)
    ds = Dataset("<img src=x onerror=alert(1)>\n---\nlicense: mit", X, y, X, y,
                 "classification", ["<b>bold</b>", "a|b", "[x](javascript:alert(1))"],
                 ["**yes**", "<i>no</i>"], description="`code` <script>x</script>")
    model = torch.nn.Sequential(torch.nn.Linear(3, 2))
    entry = Workspace().register(model, ds, {"family": "mlp", "params": {}}, "upload",
                                 name=HOSTILE)
    text = card.model_card(entry, intended_use="<script>steal()</script>\n## Fake section")
    for raw in ("<script", "<img", "<b>", "<i>", "](javascript", "\n## Fake", "\nlicense: mit"):
        assert raw not in text, raw
    header, body = card.split_card(text)
    meta = parse_yaml(header)
    assert meta["license"] == "other" and meta["datasets"] == [ds.name]
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt; --- license: mit \\# \\[click\\]" in body
    assert "\\$x\\$" in body and "a\\|b" in body and "\\*\\*yes\\*\\*" in body
    assert [ln[3:] for ln in body.splitlines() if ln.startswith("## ")] == list(card.SECTIONS)
    assert "Unknown / not recorded: this model was not trained by nnplay's Trainer" in body
    no_raw_missing_values(text)


def test_regression_and_a_diverged_model_have_honest_cards():
    ds = data.load("diabetes")
    trainer = quick_trainer(ds, epochs=3)
    trainer.fit()
    ws = Workspace()
    entry = ws.register(trainer.model, ds, trainer.spec, "notebook", name="reg",
                        train_config=trainer.config, history=trainer.history_copy())
    text = card.model_card(entry, license="mit")
    meta = parse_yaml(card.split_card(text)[0])
    assert meta["license"] == "mit" and meta["metrics"] == ["mae", "rmse", "r2"]
    expected = ev.regression_metrics(ds.y_test, predict(entry.model, ds.X_test,
                                                        task="regression"))
    values = {m["type"]: m["value"] for m in meta["model-index"][0]["results"][0]["metrics"]}
    assert values["rmse"] == pytest.approx(expected["rmse"], abs=1e-5)
    with torch.no_grad():
        for p in entry.model.parameters():
            p.fill_(float("nan"))
    text = card.model_card(entry)
    assert "Could not be measured: The model predicts NaN or infinity" in text
    assert parse_yaml(card.split_card(text)[0])["metrics"] == []
    no_raw_missing_values(text)


def test_escaping_helpers():
    assert card.md("a\n\nb <c> & d_e") == "a b &lt;c&gt; &amp; d\\_e"
    assert card.yaml_scalar("x\n---\n<y>") == '"x\\n---\\n\\u003cy\\u003e"'
    assert card.yaml_scalar(float("nan")) == "null" and card.yaml_scalar(True) == "true"
    assert card.split_card("no header") == ("", "no header")
