"""The session workspace: one way to register, unique names, filters, a memory budget that says
what it drops, pins and groups, and a download/upload round trip for every lesson's kind of model."""

import numpy as np
import pytest

from nnplay import data, models, train
from nnplay.data import derive
from nnplay.models import modelio
from nnplay.train.quick import default_spec, quick_trainer
from nnplay.train.workspace import Workspace, WorkspaceFull, input_kind, model_bytes

MLP = {"family": "mlp", "params": {"hidden": [4]}}


def test_register_unique_names_and_filters(moons):
    ws = Workspace()
    net = models.mlp(2, [4], 2)
    a = ws.register(net, moons, MLP, "playground", name="net", metrics={"accuracy": 0.9})
    b = ws.register(net, moons, MLP, "evaluate", name="net")
    assert (a.name, b.name) == ("net", "net (2)")
    assert "test accuracy 0.900" in a.label() and a.record.dataset.name == "moons"
    digits = data.load("digits")
    ws.register(models.mlp(64, [4], 10), digits, {"family": "mlp", "params": {"hidden": [4]}},
                "cnn", name="img")
    assert [m.name for m in ws.list(kind="image")] == ["img"]
    assert [m.name for m in ws.list(kind="tabular")] == ["net (2)", "net"]
    assert [m.name for m in ws.list(lesson="playground")] == ["net"]
    assert input_kind(moons) == "tabular" and input_kind(digits) == "image"


def test_a_record_that_does_not_hold_is_refused(moons):
    ws = Workspace()
    with pytest.raises(ValueError, match="Unknown lesson"):
        ws.register(models.mlp(2, [4], 2), moons, MLP, "somewhere")
    with pytest.raises(ValueError, match="does not take"):
        ws.register(models.mlp(2, [4], 2), moons, {"family": "mlp", "params": {"hiden": [4]}},
                    "evaluate")
    assert len(ws) == 0


def test_budget_drops_the_oldest_unpinned_and_says_which(moons):
    one = model_bytes(models.mlp(2, [4], 2))
    ws = Workspace(budget_bytes=3 * one)
    for name in ("a", "b", "c"):
        ws.register(models.mlp(2, [4], 2), moons, MLP, "playground", name=name)
    assert ws.last_dropped == []
    ws.pin("a")
    ws.register(models.mlp(2, [4], 2), moons, MLP, "playground", name="d")
    assert ws.last_dropped == ["b"] and "a" in ws and "b" not in ws
    ws.pin("c")
    ws.pin("d")
    with pytest.raises(WorkspaceFull, match="unpin or remove"):
        ws.register(models.mlp(2, [4], 2), moons, MLP, "playground", name="e")
    assert len(ws) == 3 and "e" not in ws


def test_a_race_group_leaves_together(moons):
    one = model_bytes(models.mlp(2, [4], 2))
    ws = Workspace(budget_bytes=3 * one)
    ws.register(models.mlp(2, [4], 2), moons, MLP, "architectures", name="mlp", group="race 1")
    ws.register(models.mlp(2, [4], 2), moons, MLP, "architectures", name="cnn", group="race 1")
    ws.register(models.mlp(2, [4], 2), moons, MLP, "playground", name="solo")
    assert [m.name for m in ws.group("race 1")] == ["mlp", "cnn"]
    ws.register(models.mlp(2, [4], 2), moons, MLP, "playground", name="new")
    assert ws.last_dropped == ["mlp", "cnn"] and [m.name for m in ws.list()] == ["new", "solo"]


CSV = "x1,x2,colour,label\n" + "\n".join(
    f"{(i * 7) % 13},{(i * 5) % 11},{'rgb'[i % 3]},{int((i * 7) % 13 > 6)}" for i in range(90))


def _lesson_models():
    """(lesson, dataset, spec, csv) as each page that registers a model builds them."""
    upload = data.from_csv(CSV.encode(), target="label", name="colours.csv")
    spiral = data.load("spiral", n=120, noise=0.1, seed=1)
    digits = data.load("digits")
    return [
        ("playground", derive.with_features(spiral, ["x1", "x2", "x1_sq", "sin_x2"]),
         {"family": "mlp", "params": {"hidden": [4, 4], "activation": "tanh"}}, None),
        ("training_lab", derive.subsample_train(digits, 100, seed=3),
         {"family": "mlp", "params": {"hidden": [16], "dropout": 0.5}}, None),
        ("cnn", digits, {"family": "cnn", "params": {"channels": [4], "hidden": [8]}}, None),
        ("sequences", data.load("sine_forecast", n=200, seq_len=12),
         {"family": "lstm", "params": {"hidden_size": 8}}, None),
        ("sequences", data.load("first_token_recall", n=200, seq_len=6),
         {"family": "gru", "params": {"hidden_size": 8}}, None),
        ("transformer", data.load("reverse_sequence", n=200, seq_len=6, vocab_size=8),
         {"family": "transformer", "params": {"d_model": 16, "n_heads": 2, "n_layers": 1}}, None),
        ("architectures", derive.shuffle_pixels(digits, seed=2),
         {"family": "cnn", "params": {"channels": [4], "hidden": [8]}}, None),
        ("evaluate", data.load("breast_cancer"), None, None),
        ("explain", upload, None, CSV.encode()),
        ("bias_audit", data.load("german_credit"), None, None),
        ("robustness", digits, None, None),
    ]


@pytest.mark.parametrize("case", range(11))
def test_every_lesson_model_round_trips_with_identical_predictions(case):
    lesson, ds, spec, csv = _lesson_models()[case]
    trainer = quick_trainer(ds, spec, train.TrainConfig(epochs=2, batch_size=64, seed=case))
    trainer.fit()
    ws = Workspace()
    entry = ws.register(trainer.model, ds, trainer.spec, lesson, train_config=trainer.config,
                        history=trainer.history_copy(), metrics=train.evaluate(trainer.model, ds))
    bundle = modelio.export_bundle(entry.model, entry.record, entry.dataset)
    loaded = modelio.load_bundle(bundle, csv=csv)
    back = Workspace().add_record(loaded.record, loaded.model, loaded.dataset)
    assert back.record.to_dict() == entry.record.to_dict()
    np.testing.assert_array_equal(loaded.dataset.X_test, ds.X_test)
    np.testing.assert_array_equal(train.predict_raw(entry.model, ds.X_test),
                                  train.predict_raw(back.model, back.dataset.X_test))


def test_default_spec_suits_the_data():
    assert default_spec(data.load("digits")).family == "cnn"
    assert default_spec(data.load("iris")).family == "mlp"
    assert default_spec(data.load("sine_forecast", n=50)).family == "lstm"
    assert default_spec(data.load("reverse_sequence", n=50)).family == "transformer"
    with pytest.raises(ValueError, match="needs image data"):
        default_spec(data.load("iris"), "cnn")


def test_findings_are_kept_per_lesson_and_checked():
    moons = data.load("moons", n=100, seed=0)
    ws = Workspace()
    entry = ws.register(models.mlp(2, [4], 2), moons, MLP, "playground", name="m")
    ws.add_finding("m", "bias_audit", {"gap": np.float32(0.25), "missing": float("nan")})
    assert entry.findings == {"bias_audit": {"gap": 0.25, "missing": None}}
    with pytest.raises(ValueError, match="unknown lesson"):
        ws.add_finding("m", "nowhere", {})
