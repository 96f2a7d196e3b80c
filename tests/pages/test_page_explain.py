"""Headless tests of pages/explain.py: tabular and image models from the session, one on the spot;
the What-If view (edit a row in original units, counterfactual, partial dependence)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_digits, make_classification
from streamlit.testing.v1 import AppTest
from torch import nn

from nnplay import data, explain
from nnplay.data.dataset import Dataset
from nnplay.train import predict_proba
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
    assert any("Explaining **P(yes)** for test row 3." in m.value for m in at.markdown)
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
    newest = ws.list()[0]   # an earlier auto-started run on iris may also have finished
    assert newest.lesson == "explain" and newest.train_config.epochs == 10
    assert len(at.get("plotly_chart")) >= 2   # the waterfall and LIME's weights
    assert "E[f(X)]" in at.latex[0].value


@pytest.fixture(scope="module")
def german_entry():
    ds = data.load("german_credit")
    return ds, quick_trainer(ds, family="mlp", epochs=8, seed=0).fit().model


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_editing_a_row_in_original_units_moves_the_prediction_to_the_engines_number(german_entry):
    ds, model = german_entry
    at = session_page("credit net", model, ds)
    assert not at.exception
    at.slider(key="ex_row").set_value(2).run()
    units = explain.original_units(ds)
    shown = dict(units.display_row(ds.X_test[2]))
    age = at.number_input(key=f"ex_edit_{units.names.index('age')}")
    sex = at.selectbox(key=f"ex_edit_{units.names.index('sex')}")
    assert str(age.value) == shown["age"] and sex.value == shown["sex"]
    original = f"{predict_proba(model, ds.X_test[2][None])[0, 1]:.3f}"
    assert metrics(at)["P(good)"] == original
    other = "female" if shown["sex"] == "male" else "male"
    age.set_value(22)
    sex.set_value(other)
    at.run()
    assert not at.exception
    edited = explain.encode_row(ds, {"age": 22, "sex": other}, base=ds.X_test[2])
    expected = predict_proba(model, edited[None])[0]
    assert metrics(at) == {"P(bad)": f"{expected[0]:.3f}", "P(good)": f"{expected[1]:.3f}"}
    assert metrics(at)["P(good)"] != original
    assert any("as edited" in m.value for m in at.markdown)
    waterfall = at.get("plotly_chart")[0]
    assert "age = 22" in waterfall.proto.spec and f"sex = {other}" in waterfall.proto.spec
    # out of the training range: said so
    age.set_value(120).run()
    assert "age = 120 (trained on 19 to 75)" in at.warning[0].value
    at.button(key="ex_editor_reset").click().run()
    assert at.number_input(key=f"ex_edit_{units.names.index('age')}").value == int(shown["age"])


def test_counterfactual_section_shows_a_flip_and_loads_it(german_entry):
    ds, model = german_entry
    at = session_page("credit net", model, ds)
    cf = explain.counterfactual(model, ds, ds.X_test[0])
    assert cf.found
    assert "flips the prediction" in at.success[0].value
    assert f"{cf.proba[cf.target]:.3f}" in at.success[0].value
    table = at.dataframe[0].value
    assert list(table["feature"]) == list(cf.changes["feature"])
    at.button(key="ex_cf_apply").click().run()
    assert not at.exception
    name = ds.class_names[cf.target]
    assert any(f"The model predicts **{name}**" in m.value for m in at.markdown)
    assert metrics(at)[f"P({name})"] == f"{cf.proba[cf.target]:.3f}"
    # keeping every feature fixed: nothing can flip, and the page says so
    at.multiselect(key="ex_cf_frozen").set_value(explain.original_units(ds).names).run()
    assert at.warning and at.warning[0].value.startswith("No change flipping the prediction")


def test_partial_dependence_follows_the_chosen_feature_and_class(german_entry):
    ds, model = german_entry
    at = session_page("credit net", model, ds)
    at.selectbox(key="ex_pd_feature").set_value("purpose")
    at.selectbox(key="ex_pd_class").set_value("bad").run()
    assert not at.exception
    pd_fig = [c for c in at.get("plotly_chart") if "Partial dependence" in c.proto.spec][0]
    assert "P(bad)" in pd_fig.proto.spec and "education" in pd_fig.proto.spec
    assert any("over 200 training rows with purpose set" in c.value for c in at.caption)


def test_regression_model_shows_its_value_in_target_units():
    ds = data.load("diabetes")
    model = quick_trainer(ds, family="mlp", epochs=3, seed=0).fit().model
    at = session_page("sugar net", model, ds)
    assert not at.exception
    value = explain.outputs(model, ds, ds.X_test[0])[0, 0]
    assert metrics(at) == {"predicted disease_progression": explain.format_number(value)}
    assert any("A counterfactual flips a predicted class" in c.value for c in at.caption)


def test_a_model_on_an_uploaded_csv_is_edited_in_the_files_own_values():
    rng = np.random.default_rng(1)
    n = 90
    income = rng.uniform(1000, 9000, n).round(2)
    city = rng.choice(["Bonn", "Köln", "Aachen"], n)
    bought = np.where(income + 3000 * (city == "Bonn") > 6000, "yes", "no")
    csv = pd.DataFrame({"income": income, "city": city, "age": rng.integers(18, 80, n),
                        "bought": bought}).to_csv(index=False).encode()
    ds = data.from_csv(csv, target="bought", name="shop")
    model = quick_trainer(ds, family="mlp", epochs=30, seed=0).fit().model
    at = session_page("shop net", model, ds)
    assert not at.exception
    units = explain.original_units(ds)
    city_box = at.selectbox(key=f"ex_edit_{units.names.index('city')}")
    assert sorted(city_box.options) == ["Aachen", "Bonn", "Köln"]
    assert city_box.value == dict(units.display_row(ds.X_test[0]))["city"]
    city_box.set_value("Bonn").run()
    edited = explain.encode_row(ds, {"city": "Bonn"}, base=ds.X_test[0])
    assert metrics(at)["P(yes)"] == f"{predict_proba(model, edited[None])[0, 1]:.3f}"
    spec = at.get("plotly_chart")[0].proto.spec
    assert "city = Bonn" in spec and "income = " in spec
