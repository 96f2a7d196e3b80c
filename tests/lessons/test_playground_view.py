"""The Playground's browser view, engine side: the payload it draws from and the edits it sends."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from nnplay.lessons import playground as pg
from nnplay.lessons.playground import view


def decimals(values) -> int:
    """The most decimal digits any value in a flat list carries."""
    return max(len(repr(v).split(".")[1]) if "." in repr(v) else 0
               for v in values if v is not None)


@pytest.fixture
def session() -> pg.PlaygroundSession:
    s = pg.PlaygroundSettings(dataset="xor", features=("x1", "x2", "x1x2"), hidden=(4, 2),
                              show_test=True)
    return pg.PlaygroundSession(s)


def test_payload_sizes_follow_the_network_and_the_grid(session):
    p = view.view_payload(session)
    res, node = view.RESOLUTION, (view.RESOLUTION - 1) // view.NODE_STEP + 1
    assert (p["res"], p["node_res"]) == (res, node) and len(p["output"]) == res * res
    assert p["sizes"] == [3, 4, 2, 2] and p["input_names"] == ["X₁", "X₂", "X₁·X₂"]
    assert [len(layer) for layer in p["neurons"]] == [4, 2]
    assert all(len(m) == node * node for layer in p["neurons"] for m in layer)
    assert len(p["inputs"]) == 3 and all(len(m) == node * node for m in p["inputs"])
    assert [(len(w), len(w[0])) for w in p["weights"]] == [(4, 3), (2, 4), (2, 2)]
    assert [len(b) for b in p["biases"]] == [4, 2, 2]
    raw = session.raw
    assert len(p["train"]["x"]) == len(raw.X_train) and len(p["test"]["v"]) == len(raw.y_test)
    assert p["confidence"] is None and p["task"] == "classification"
    assert len(json.dumps(p)) < 60_000          # one refresh stays a small message


def test_payload_output_is_output_grids_rounded(session):
    p = view.view_payload(session)
    s = session.settings
    grid = pg.output_grid(session.model, s.features, *pg.plane_limits(session.raw), s.problem,
                          view.RESOLUTION)
    np.testing.assert_allclose(np.reshape(p["output"], grid.output.shape), grid.output, atol=5e-4)
    np.testing.assert_allclose(np.reshape(p["neurons"][1][0], (p["node_res"],) * 2),
                               grid.neurons[1][0][::view.NODE_STEP, ::view.NODE_STEP], atol=5e-3)
    weights = pg.network_weights(session.model)
    np.testing.assert_allclose(p["weights"][0], weights[0], atol=5e-4)
    # Rounded to the digits DIGITS names: a float32 grid would otherwise send ~9 digits each.
    assert decimals(p["output"]) <= view.DIGITS["output"] < decimals(grid.output.tolist())
    assert decimals(sum(p["weights"][0], [])) <= view.DIGITS["weights"]
    assert decimals(p["neurons"][0][0]) <= view.DIGITS["maps"]
    assert decimals(p["train"]["x"]) <= view.DIGITS["points"]


def test_payload_for_regression_multiclass_and_a_diverged_network():
    reg = pg.PlaygroundSession(pg.PlaygroundSettings(problem="regression", dataset="gauss_regression",
                                                     hidden=(3,), show_test=False))
    p = view.view_payload(reg)
    assert p["task"] == "regression" and p["test"] is None and p["sizes"] == [2, 3, 1]
    multi = pg.PlaygroundSession(pg.PlaygroundSettings(dataset="blobs", hidden=(3,)))
    p = view.view_payload(multi)
    assert p["n_classes"] > 2 and len(p["confidence"]) == len(p["output"])
    assert set(p["output"]) <= set(float(k) for k in range(p["n_classes"]))
    with torch.no_grad():
        multi.model.linear_layers()[0].weight.fill_(float("nan"))
    p = view.view_payload(multi)
    assert None in p["neurons"][0][0] and None in p["weights"][0][0]
    json.loads(json.dumps(p, allow_nan=False))   # valid JSON for the browser: null, never NaN


def test_set_weight_changes_the_model_and_its_output(session):
    s = session.settings
    limits = pg.plane_limits(session.raw)
    before = pg.output_grid(session.model, s.features, *limits, s.problem).output
    old = session.model.linear_layers()[0].weight[1, 2].item()
    assert view.set_weight(session.model, 0, 2, 1, 3.5) == pytest.approx(old)
    assert session.model.linear_layers()[0].weight[1, 2].item() == 3.5   # into neuron 2 from X₁·X₂
    after = pg.output_grid(session.model, s.features, *limits, s.problem).output
    assert np.abs(after - before).max() > 1e-3
    p = view.view_payload(session)
    assert p["weights"][0][1][2] == 3.5
    line = view.apply_edit(session, {"layer": 2, "i": 1, "j": 0, "value": -2})
    assert session.model.linear_layers()[2].weight[0, 1].item() == -2.0
    assert line.startswith("Weight neuron 2 of layer 2 → output") and "→ -2.000" in line
    view.apply_edit(session, {"layer": 1, "i": 0, "j": 1, "value": 0.25, "bias": True})
    assert session.model.linear_layers()[1].bias[1].item() == 0.25
    session.run_chunk(epochs=1)                 # training goes on from the edited weights
    assert session.epoch == 1


@pytest.mark.parametrize("edit, fragment", [
    ({"layer": 3, "i": 0, "j": 0, "value": 1}, "layer must be 0 to 2"),
    ({"layer": 0, "i": 3, "j": 0, "value": 1}, "i must be 0 to 2"),
    ({"layer": 0, "i": 0, "j": 4, "value": 1}, "j must be 0 to 3"),
    ({"layer": 0, "i": 0, "j": 0, "value": "abc"}, "is a number"),
    ({"layer": 0, "i": 0, "j": 0, "value": math.inf}, "between -100 and 100"),
    ({"layer": 0, "i": 0, "j": 0, "value": 1e6}, "between -100 and 100"),
])
def test_impossible_edits_say_what_to_change_and_change_nothing(session, edit, fragment):
    before = [w.copy() for w in pg.network_weights(session.model)]
    with pytest.raises(ValueError, match=fragment):
        view.apply_edit(session, edit)
    for a, b in zip(before, pg.network_weights(session.model)):
        np.testing.assert_array_equal(a, b)


def test_node_maps_must_span_the_plane(session):
    with pytest.raises(ValueError, match="must divide"):
        view.view_payload(session, resolution=50, node_step=3)


def test_the_page_draws_the_view_as_one_component_while_playing_and_paused():
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "pages" / "playground.py"),
                           default_timeout=60)
    at.query_params.update({"dataset": "xor", "hidden": "4,2"})
    at.run()
    for click in (None, "pg_play", None, "pg_pause"):     # paused, playing (twice), paused
        if click:
            at.button(key=click).click()
        at.run()
        assert not at.exception
        (component,) = [e for e in at.get("bidi_component")
                        if e.proto.component_name == "nnplay_playground_view"]
        payload = json.loads(component.proto.bytes)   # sent as JSON bytes, encoded once
        assert payload["epoch"] == at.session_state["pg_session"].epoch
        assert payload["sizes"] == [2, 4, 2, 2]
        assert len(at.get("imgs")) == 0              # nothing for the browser to fetch


def test_a_large_network_gets_smaller_node_maps_to_keep_the_message_small():
    big = pg.PlaygroundSession(pg.PlaygroundSettings(dataset="spiral", hidden=(8,) * 6,
                                                     features=tuple(pg.FEATURES)))
    p = view.view_payload(big)
    assert p["node_res"] == (view.RESOLUTION - 1) // (2 * view.NODE_STEP) + 1
    assert len(json.dumps(p)) < 60_000


def test_each_output_unit_gets_its_own_class_probability_map(session):
    session.run_chunk(epochs=30)
    p = view.view_payload(session)
    maps = np.array(p["class_maps"], dtype=float)
    assert maps.shape == (2, p["node_res"] ** 2)
    np.testing.assert_allclose(maps.sum(axis=0), 1.0, atol=0.02)   # P(orange) + P(blue)
    assert not np.allclose(maps[0], maps[1], atol=0.05)         # two units, two different maps
    grid = pg.output_grid(session.model, session.settings.features, *pg.plane_limits(session.raw),
                          "classification", view.RESOLUTION)
    np.testing.assert_allclose(maps[1], grid.probs[1][::view.NODE_STEP, ::view.NODE_STEP].ravel(),
                               atol=6e-3)
    regression = pg.PlaygroundSession(pg.PlaygroundSettings(problem="regression",
                                                            dataset="plane", hidden=(3,)))
    assert view.view_payload(regression)["class_maps"] is None


def test_the_loss_curve_starts_at_epoch_0_and_stays_small(session):
    assert view.view_payload(session)["loss"]["epoch"] == [0]     # the untrained network's loss
    session.run_chunk(epochs=600)
    curve = view.view_payload(session)["loss"]
    assert curve["epoch"][0] == 0 and curve["epoch"][-1] == 600
    assert len(curve["epoch"]) == view.CURVE_POINTS == len(curve["train"]) == len(curve["test"])
    assert curve["epoch"] == sorted(set(curve["epoch"]))
    history = session.trainer.curve_history()
    assert curve["test"][-1] == pytest.approx(history[-1]["val_loss"], abs=1e-4)
    hidden = pg.PlaygroundSession(pg.PlaygroundSettings(dataset="xor", hidden=(2,)))
    hidden.run_chunk(epochs=2)
    assert len(view.view_payload(hidden)["loss"]["train"]) == 3
