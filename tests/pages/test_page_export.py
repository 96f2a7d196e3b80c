"""Headless tests of pages/export.py: a network trained on the spot is exported, verified and
offered for download with its model card; a model from another page (with a hostile name and an
audit) gets a card with its findings and no injected HTML; a model that cannot be traced gets
the reason, and the rest of the page still works."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from streamlit.testing.v1 import AppTest
from torch import nn

from nnplay import data
from nnplay.data.dataset import Dataset
from nnplay.lessons import bias_audit
from nnplay.production import card
from nnplay.responsible import fairness
from nnplay.train import predict
from nnplay.train.quick import quick_trainer
from nnplay.train.workspace import Workspace

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "export.py")
DOWNLOADS = ["Download ONNX", "Download torch.export (.pt2)",
             "Download the weights (safetensors)", "Download the nnplay model (zip)",
             "Download the model card (Markdown)"]


def page_with(workspace: Workspace | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    if workspace is not None:
        at.session_state["nnplay_workspace"] = workspace
    at.run()
    assert not at.exception
    return at


def shown_text(at: AppTest, code: bool = True) -> str:
    """Everything the page shows as text (with or without its code blocks)."""
    kinds = (at.markdown, at.caption, at.success, at.warning, at.error, at.info,
             *((at.code,) if code else ()))
    parts = [e.value for kind in kinds for e in kind]
    return "\n".join([*map(str, parts), *(f"{m.label} {m.value}" for m in at.metric)])


def labels(at: AppTest) -> list[str]:
    return [b.label for b in at.get("download_button")]


def test_a_model_trained_here_is_exported_verified_and_carded(finish_job):
    at = page_with()
    finish_job(at, "export_spot_job")
    (entry,) = at.session_state["nnplay_workspace"].list()
    assert entry.dataset.name == "breast_cancer" and entry.lesson == "export"
    assert labels(at) == DOWNLOADS
    diffs = [m.value for m in at.metric if m.label == "Largest difference from PyTorch"]
    assert len(diffs) == 2
    assert all(v == "0 (identical)" or float(v) <= 1e-4 for v in diffs)
    assert len([s for s in at.success if "every output within 0.0001" in s.value]) == 2
    found = entry.findings["export"]
    assert found["onnx"]["verified"] and found["torch-export"]["verified"]
    assert [c["batch"] for c in found["onnx"]["checks"]] == [4, 1, 32]
    text = shown_text(at)
    assert "TorchScript" in text and "deprecated" in text
    for section in card.SECTIONS:
        assert f"## {section}" in text
    assert card.unknown("bias_audit") in text and card.unknown("export") not in text
    assert not re.search(r"\b(nan|None)\b", shown_text(at, code=False))   # code may say None
    # remembered: another run (or coming back from another page) does not export again
    results = at.session_state["export_results"]
    before = next(iter(results.values()))["exports"]
    at.selectbox(key="export_license").set_value("mit").run()
    assert not at.exception
    assert next(iter(at.session_state["export_results"].values()))["exports"] is before
    assert 'license: "mit"' in at.code[-1].value
    at.text_input(key="export_use").set_value("<b>Teaching</b> | demos").run()
    assert not at.exception
    assert "**Primary intended uses:** &lt;b&gt;Teaching&lt;/b&gt; \\| demos" in shown_text(at)


def test_a_model_from_another_page_with_a_hostile_name_and_its_audit():
    ds = data.load("german_credit")
    trainer = quick_trainer(ds, epochs=3)
    trainer.fit()
    ws = Workspace()
    name = "<script>alert(1)</script>\n---\nx"
    entry = ws.register(trainer.model, ds, trainer.spec, "bias_audit", name=name,
                        train_config=trainer.config, history=trainer.history_copy())
    audit = fairness.audit(ds.y_test, predict(entry.model, ds.X_test),
                           ds.extra["sensitive_test"]["sex"], pos_label=1)
    ws.add_finding(entry.name, "bias_audit", bias_audit.finding(audit, ["sex"], "good"))
    at = page_with(ws)
    assert at.radio(key="export_source").value == "From this session"
    assert labels(at) == DOWNLOADS
    text = shown_text(at)
    assert "<script" not in text and "&lt;script&gt;alert\\(1\\)" in text
    assert card.unknown("bias_audit") not in text
    assert f"Demographic parity difference {audit.demographic_parity_difference:.4g}" in text
    assert not any(m.allow_html for m in at.markdown)


class ValueBranch(nn.Module):
    """A network whose forward branches on its input's values: it cannot be traced."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 2)

    def forward(self, x):
        return self.linear(x) if x.mean() > 0 else self.linear(-x)


def test_a_model_that_cannot_be_exported_gets_the_reason():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4)).astype(np.float32)
    y = rng.integers(0, 2, 50)
    ds = Dataset("numbers", X, y, X, y, "classification", ["a", "b", "c", "d"], ["no", "yes"])
    ws = Workspace()
    torch.manual_seed(0)
    ws.register(ValueBranch(), ds, {"family": "mlp", "params": {}}, "notebook", name="brancher")
    at = page_with(ws)
    reasons = [w.value for w in at.warning if "not exportable" in w.value]
    assert len(reasons) == 2
    assert all("data-dependent control flow" in r and "Traceback" not in r for r in reasons)
    assert labels(at) == DOWNLOADS[2:]   # weights and card still there
    assert "## Quantitative analyses" in shown_text(at)


def test_the_audit_and_robustness_pages_leave_findings_the_card_shows(finish_job):
    audit_page = AppTest.from_file(str(Path(PAGE).with_name("bias_audit.py")),
                                   default_timeout=120).run()
    finish_job(audit_page, "bias_spot_job")
    ws = audit_page.session_state["nnplay_workspace"]
    (entry,) = ws.list()
    bias = entry.findings["bias_audit"]
    assert bias["sensitive"] == ["sex"] and bias["favourable"] == "good"
    assert {g["group"] for g in bias["by_group"]} == {"female", "male"}
    shown = audit_page.metric[0].value   # the audit's demographic parity difference
    assert f"{bias['gaps']['demographic_parity_difference']:.3f}" == shown

    robust_page = AppTest.from_file(str(Path(PAGE).with_name("robustness.py")),
                                    default_timeout=120)
    robust_page.session_state["nnplay_workspace"] = ws
    robust_page.session_state["rob_part"] = "Tables"   # straight to the tabular part
    robust_page.run()
    assert not robust_page.exception and len(ws) == 1
    curve = entry.findings["robustness"]["tabular"]
    assert {row["damage"] for row in curve} == {"noise", "missing"}

    at = page_with(ws)
    assert at.selectbox(key="export_model").value == entry.name
    text = shown_text(at, code=False)
    assert card.unknown("bias_audit") not in text and card.unknown("robustness") not in text
    assert f"| noise | 0 | {curve[0]['accuracy']:.4g} |" in text
