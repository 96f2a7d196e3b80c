"""Headless tests of pages/explain.py: tabular and image models from the session, one on the spot."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits, make_classification
from streamlit.testing.v1 import AppTest
from torch import nn

from nnplay import explain
from nnplay.data.dataset import Dataset
from nnplay.train.quick import quick_trainer
from nnplay.train.workspace import Workspace

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "explain.py")


def run_until_job_done(at: AppTest, key: str, seconds: float = 60) -> AppTest:
    """AppTest does not fire run_every; rerun until the background job has finished."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception
        if key in at.session_state and at.session_state[key].finished:
            return at.run()
        time.sleep(0.3)
    raise AssertionError("the background job did not finish")


def session_page(name, model, ds) -> AppTest:
    ws = Workspace()
    ws.register(model, ds, {"family": "cnn" if len(ds.input_shape) == 3 else "mlp",
                            "params": {}}, "notebook", name=name)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["nnplay_workspace"] = ws
    return at.run()


@pytest.fixture(scope="module")
def tabular_entry():
    X, y = make_classification(160, 5, n_informative=3, n_redundant=0, random_state=0)
    X = X.astype(np.float32)
    ds = Dataset("synthetic", X[:120], y[:120], X[120:], y[120:], "classification",
                 [f"f{i}" for i in range(5)], ["no", "yes"])
    trainer = quick_trainer(ds, family="mlp", epochs=20).fit()
    return ds, trainer.model


class TinyCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.head = nn.Sequential(nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 10))

    def forward(self, x):
        return self.head(self.conv(x))


def test_tabular_row_shows_shap_efficiency_and_lime(tabular_entry):
    ds, model = tabular_entry
    at = session_page("tab net", model, ds)
    assert not at.exception
    at.slider(key="ex_row").set_value(3)
    at.select_slider(key="ex_nsamples").set_value(256).run()
    assert not at.exception
    background = explain.background_sample(ds.X_train, 100)
    exp = explain.shap_values(model, background, ds.X_test[3], nsamples=256)
    check = explain.efficiency_frame(exp).iloc[0]
    assert check["gap"] < 1e-3
    assert f"{check['base_plus_sum']:.4f}" in at.latex[0].value
    assert "Explaining **P(yes)** for test row 3" in at.markdown[1].value
    captions = " ".join(c.value for c in at.caption)
    assert f"f(x) = {check['model_output']:.4f}" in captions
    # 5 features have only 2^5 - 2 = 30 coalitions: KernelSHAP enumerates them all, exactly
    assert exp.nnplay["nsamples"] == 30 and "30 coalitions x 100" in captions
    assert "top 5" in at.info[0].value     # the SHAP/LIME agreement note


def test_tabular_test_set_job_draws_the_beeswarm(tabular_entry):
    ds, model = tabular_entry
    at = session_page("tab net", model, ds)
    at.slider(key="ex_set_rows").set_value(6)
    at.select_slider(key="ex_set_nsamples").set_value(64)
    at.button(key="ex_set_run").click()
    at = run_until_job_done(at, "ex_shap_set_job")
    job = at.session_state["ex_shap_set_job"]
    assert job.status == "completed" and job.result.values.shape == (6, 5)
    assert any("6 rows in" in c.value for c in at.caption)
    # stopping a fresh job leaves the page working
    at.slider(key="ex_set_rows").set_value(40)
    at.select_slider(key="ex_set_nsamples").set_value("auto")
    at.button(key="ex_set_run").click().run()
    at.session_state["ex_shap_set_job"].stop()
    at = run_until_job_done(at, "ex_shap_set_job")
    assert at.session_state["ex_shap_set_job"].status in ("stopped", "completed")
    assert not at.exception


def test_image_model_from_the_session_gets_every_map_and_the_ig_check():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)
    ds = Dataset("digits", X[:60], y[:60], X[60:80], y[60:80], "classification",
                 [f"p{i}" for i in range(64)], [str(d) for d in range(10)])
    torch.manual_seed(0)
    at = session_page("cnn", TinyCNN(), ds)
    assert not at.exception
    at.slider(key="ex_image").set_value(2).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["method"]) == ["Gradient saliency", "Integrated gradients", "Grad-CAM"]
    assert "completeness gap" in table.loc[1, "sanity check"]
    assert r"\mathrm{IG}" in at.latex[0].value
    at.button(key="ex_perturb_run").click()
    at = run_until_job_done(at, "ex_perturb_job")
    table = at.dataframe[0].value
    assert list(table["method"])[-2:] == ["Occlusion", "LIME segments"]
    assert "surrogate R²" in table.loc[4, "sanity check"]


def test_train_one_on_the_spot_and_explain_it():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert at.radio(key="ex_source").value == "Train one on the spot"   # nothing in the session
    at.selectbox(key="ex_spot_dataset").set_value("iris")
    at.number_input(key="ex_spot_epochs_1").set_value(10).run()
    at.button(key="ex_spot_go").click().run()
    at.session_state["ex_spot_job"]["worker"].join(60)
    at.run()
    assert not at.exception
    ws = at.session_state["nnplay_workspace"]
    assert len(ws) == 1 and ws.list()[0].lesson == "explain"
    assert ws.list()[0].train_config.epochs == 10
    assert len(at.get("plotly_chart")) >= 2   # the waterfall and LIME's weights
    assert "E[f(X)]" in at.latex[0].value
