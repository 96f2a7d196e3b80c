"""The session workspace keeps trained models with unique names, filters them, and is bounded."""

from nnplay import data, models
from nnplay.train.workspace import Workspace, input_kind


def test_add_unique_names_filter_and_bound(moons):
    ws = Workspace(max_models=3)
    net = models.mlp(2, [4], 2)
    a = ws.add("net", net, moons, source="test", metrics={"accuracy": 0.9})
    b = ws.add("net", net, moons, source="test")
    assert (a.name, b.name) == ("net", "net (2)")
    assert "test accuracy 0.900" in a.label()
    digits = data.load("digits")
    ws.add("img", models.mlp(64, [4], 10), digits)
    assert [m.name for m in ws.list(kind="image")] == ["img"]
    assert [m.name for m in ws.list(kind="tabular")] == ["net (2)", "net"]
    ws.add("more", net, moons)
    assert len(ws) == 3 and "net" not in ws  # the oldest went first
    assert input_kind(moons) == "tabular" and input_kind(digits) == "image"
