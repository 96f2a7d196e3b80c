"""The Playground on a person's CSV: columns chosen, classes read, x1/x2 standardised to the plane,
bad files refused with a message, the data rebuilt from the file's reference; hide= parsing."""

from __future__ import annotations

import numpy as np
import pytest

from nnplay.data.ref import DatasetRef
from nnplay.lessons import playground as pg
from nnplay.lessons.playground import upload as up


def two_moons_csv(n: int = 200, seed: int = 0) -> bytes:
    """Moons in odd units (x around 1000 with std 50, y tiny), a text label, an unused column."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n, noise=0.1, random_state=seed)
    rows = ["id_text,height,weight,colour,kind"]
    for i, ((a, b), c) in enumerate(zip(X, y)):
        rows.append(f"r{i},{1000 + 50 * a:.4f},{0.01 * b:.6f},red,{'ab'[c]}")
    return "\n".join(rows).encode()


def test_columns_classes_and_standardisation():
    csv = up.read_plane_csv(two_moons_csv(), "moons.csv")
    assert csv.numeric == ("height", "weight") and csv.n_rows == 200
    assert csv.suggested() == ("height", "weight", "kind")
    raw = up.load_plane(csv, "height", "weight", "kind", test_size=0.3, seed=1)
    assert raw.input_shape == (2,) and raw.task == "classification"
    assert raw.class_names == ["a", "b"] and raw.n_train == 140 and raw.n_test == 60
    assert raw.feature_names == ["height", "weight"]
    # standardised on the training split, then doubled: mean 0, std 2 whatever the units
    np.testing.assert_allclose(raw.X_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(raw.X_train.std(0), 2, rtol=1e-4)
    assert raw.extra["xlim"][0] <= -6 and raw.extra["xlim"][1] >= np.abs(raw.X_test).max()
    notes = " ".join(up.plane_notes(raw))
    assert "standardised" in notes and "'height'" in notes and "classes a, b" in notes


def test_features_apply_and_the_network_learns():
    csv = up.read_plane_csv(two_moons_csv(300), "moons.csv")
    raw = up.load_plane(csv, "height", "weight", "kind")
    s = up.plane_settings(pg.PlaygroundSettings(features=("x1", "x2", "x1x2"), hidden=(8, 8),
                                                optimizer="adam", lr=0.03), csv,
                          "height", "weight", "kind")
    assert s.dataset == pg.UPLOAD and "moons.csv: height, weight → kind" in s.upload
    session = pg.PlaygroundSession(s, raw)
    assert session.dataset.n_features == 3
    session.run_chunk(epochs=60)
    assert session.metrics()["val_accuracy"] >= 0.9
    grid = pg.output_grid(session.model, s.features, *pg.plane_limits(raw), s.problem, 20)
    assert grid.output.shape == (20, 20)


def test_regression_label_and_reference_needs_the_same_file():
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(120, 2))
    rows = ["a,b,height"] + [f"{p:.4f},{q:.4f},{p * 2 - q:.4f}" for p, q in X]
    content = "\n".join(rows).encode()
    csv = up.read_plane_csv(content, "plane.csv")
    assert csv.suggested() == ("a", "b", "height")
    raw = up.load_plane(csv, "a", "b", "height", problem="regression")
    assert raw.task == "regression" and raw.y_train.dtype == np.float32
    ds = pg.featurize(raw, ("x1", "x2", "x1_sq"))
    ref = DatasetRef.of(ds)
    assert ref.source == "upload" and ref.sha256 == csv.sha256
    assert [step["op"] for step in ref.steps] == ["plane_columns", "features"]
    again = ref.load(content)
    np.testing.assert_allclose(again.X_train, ds.X_train)
    with pytest.raises(ValueError, match="needs the same|not the file|upload that CSV"):
        ref.load(content + b"\n1,2,3")


@pytest.mark.parametrize("content, message", [
    (b"name,colour,kind\nx,red,a\ny,blue,b\n", "two numeric columns"),
    (b"a,b\n" + b"".join(f"{i % 7},{i % 5}\n".encode() for i in range(20)), "third"),
    (b"a,b,c\n" + b"".join(f"{i % 7},{i % 5},1\n".encode() for i in range(20)), "same value"),
    (b"a,b,c\n" + b"".join(f"{i % 7},{i % 5},{i % 2}\n".encode() for i in range(6000)),
     "5,000 rows"),
    (b"PK\x03\x04junk", "Excel"),
])
def test_bad_files_say_what_to_change(content, message):
    with pytest.raises(ValueError, match=message):
        csv = up.read_plane_csv(content, "bad.csv")
        up.load_plane(csv, *csv.suggested())


def test_bad_column_choices_say_what_to_change():
    csv = up.read_plane_csv(two_moons_csv(), "moons.csv")
    with pytest.raises(ValueError, match="three different columns"):
        up.load_plane(csv, "height", "weight", "weight")
    with pytest.raises(ValueError, match="x1 must be a numeric column"):
        up.load_plane(csv, "colour", "weight", "kind")
    with pytest.raises(ValueError, match="holds text"):
        up.load_plane(csv, "height", "weight", "kind", problem="regression")
    many = ["a,b,c"] + [f"{i},{i % 13 * 0.5},{i % 9}" for i in range(100)]
    csv = up.read_plane_csv("\n".join(many).encode(), "many.csv")
    with pytest.raises(ValueError, match="at most 5 classes"):
        up.load_plane(csv, "a", "b", "c")


def test_a_link_names_the_file_and_falls_back_to_built_in_data():
    csv = up.read_plane_csv(two_moons_csv(), "moons.csv")
    s = up.plane_settings(pg.PlaygroundSettings(problem="regression", dataset="plane"), csv,
                          "height", "weight", "kind")
    params = pg.to_query_params(s)
    assert params["dataset"] == "upload" and params["upload"].startswith("moons.csv")
    back, hide, problems = pg.from_query_params(params)
    assert back.dataset == "plane" and back.upload == "" and back.problem == "regression"
    assert "moons.csv: height, weight → kind" in problems[0] and "upload the file" in problems[0]
    assert "upload" not in pg.to_query_params(pg.PlaygroundSettings())
    with pytest.raises(ValueError, match="upload names the CSV"):
        pg.PlaygroundSettings(dataset="upload")


def test_hide_lists_the_valid_names_for_an_unknown_one():
    hide, problems = pg.parse_hide("lr, learningRate,activation")
    assert hide == {"lr", "activation"}
    assert "'learningRate'" in problems[0] and "lr, " in problems[0] and "activation" in problems[0]
    assert pg.parse_hide("") == (frozenset(), [])
    settings, hide, problems = pg.from_query_params({"hide": "lr,nope", "lr": "0.3"})
    assert hide == {"lr"} and settings.lr == 0.3 and "no control called 'nope'" in problems[0]
