"""The explainability lesson's engine side: row explanations in original units, the texts the
page shows (no raw nan or None), and its figures' readability rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import torch

from nnplay import data, explain
from nnplay.lessons import explain as lesson
from nnplay.plots import explain as plots
from nnplay.train import predict_proba
from nnplay.train.quick import quick_trainer


@pytest.fixture(scope="module")
def german():
    torch.manual_seed(0)
    ds = data.load("german_credit")
    return ds, quick_trainer(ds, family="mlp", epochs=8, seed=0).fit().model


def test_explain_row_gives_one_value_per_readable_feature(german):
    ds, model = german
    x = explain.encode_row(ds, {"age": 23, "sex": "female"}, base=ds.X_test[2])
    why = lesson.explain_row(model, ds, x, n_background=30, nsamples=256, lime_samples=800)
    assert why.target == 1 and why.output_label == "P(good)"
    assert why.labels[2] == "age = 23" and why.labels[4] == "sex = female"
    total = why.shap.base_values[0] + why.shap.values[0].sum()
    assert total == pytest.approx(predict_proba(model, x[None])[0, 1], abs=1e-5)
    assert why.agreement.count(".") == 2 and why.agreement.startswith("SHAP and LIME share")


def test_regression_rows_are_explained_in_the_targets_units():
    ds = data.load("diabetes")
    model = quick_trainer(ds, family="mlp", epochs=3, seed=0).fit().model
    why = lesson.explain_row(model, ds, ds.X_test[0], n_background=20, nsamples=128,
                             lime_samples=500)
    value = explain.outputs(model, ds, ds.X_test[0])[0, 0]
    assert why.target == -1 and why.output_label == "predicted disease_progression"
    assert why.shap.base_values[0] + why.shap.values[0].sum() == pytest.approx(value, rel=1e-4)
    assert 20 < value < 400
    shown = lesson.prediction_metrics(ds, np.array([value]), np.array([value + 12.5]))
    assert shown == [lesson.Shown("predicted disease_progression", explain.format_number(value + 12.5),
                                  "+12.5")]


def test_texts_are_computed_and_readable(german):
    ds, model = german
    before, after = np.array([0.3, 0.7]), np.array([0.55, 0.45])
    shown = lesson.prediction_metrics(ds, before, after)
    assert [(s.label, s.value, s.delta) for s in shown] == [("P(bad)", "0.550", "+0.250"),
                                                           ("P(good)", "0.450", "-0.250")]
    assert lesson.prediction_metrics(ds, before, before)[0].delta is None
    assert lesson.predicted_sentence(ds, after) == "The model predicts **bad** (P = 0.550)."
    assert lesson.out_of_range(ds, {"age": 120, "sex": "male", "duration": 12}) == [
        "age = 120 (trained on 19 to 75)"]
    cf = explain.counterfactual(model, ds, ds.X_test[0])
    text = lesson.counterfactual_sentence(ds, cf)
    assert "flips the prediction" in text and f"{cf.proba[cf.target]:.3f}" in text
    stuck = explain.counterfactual(model, ds, ds.X_test[0], frozen=explain.original_units(ds).names)
    text = lesson.counterfactual_sentence(ds, stuck)
    assert text.startswith("No change flipping the prediction") and "Free some" in text
    for t in (text, lesson.counterfactual_sentence(ds, cf), lesson.predicted_sentence(ds, after)):
        assert "nan" not in t and "None" not in t


def test_lime_labels_sit_on_the_axis_with_room_for_the_numbers():
    weights = pd.DataFrame({"feature": [0, 1, 2], "weight": [-0.3, 0.2, 0.05],
                            "rule": ["checking_account=moderate and a very long rule text",
                                     "12 < duration <= 18", "sex=male"]})
    fig = plots.lime_weights_figure(weights)
    bar = fig.data[0]
    assert bar.textposition == "outside" and "<br>" in bar.y[0]    # long rules wrapped
    lo, hi = fig.layout.xaxis.range
    assert lo < -0.3 * 1.15 and hi > 0.2 * 1.15     # room outside both bar ends for the text
    assert fig.layout.yaxis.automargin


def test_waterfall_uses_the_readable_labels_and_every_heatmap_has_a_colour_bar():
    fig = plots.shap_waterfall_figure(np.array([0.2, -0.1]), 0.5, np.array([1.0, 0.0]),
                                      ["age", "sex"], labels=["age = 41", "sex = male"])
    assert list(fig.data[0].y[1:3]) == ["age = 41", "sex = male"]
    image = np.random.default_rng(0).random((1, 8, 8))
    maps = {"Saliency": np.random.default_rng(1).random((8, 8)),
            "IG": np.random.default_rng(2).normal(size=(8, 8))}
    fig = plots.attribution_maps_figure(image, maps, {"Saliency": False, "IG": True})
    heatmaps = [t for t in fig.data if isinstance(t, go.Heatmap)]
    with_bar = [t for t in heatmaps if t.showscale is not False]
    assert len(with_bar) == 3          # the input and both maps; the grey under-layers share one
    xs = [t.colorbar.x for t in with_bar]
    assert xs == sorted(xs) and len(set(xs)) == 3       # one under each panel


def test_partial_dependence_figure_draws_average_row_and_now(german):
    ds, model = german
    x = ds.X_test[1]
    frame = explain.partial_dependence(model, ds, "purpose", row=x, n_rows=50)
    units = explain.original_units(ds)
    now = units.to_raw(x)[0, units.names.index("purpose")]
    fig = plots.partial_dependence_figure(frame, "purpose", "P(good)", row_value=now)
    assert [t.name for t in fig.data] == ["average (PD)", "this row (ICE)", "the row now"]
    assert fig.layout.xaxis.type == "category"
    frame = explain.partial_dependence(model, ds, "age", row=x, n_rows=50)
    fig = plots.partial_dependence_figure(frame, "age", "P(good)", row_value=36)
    assert fig.data[2].x[0] == 36 and fig.layout.xaxis.title.text == "age"
