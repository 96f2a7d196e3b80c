"""The Applications lesson's engine: sensitivity at a fixed specificity (against a brute-force
search), ECE, screening networks that learn; walk-forward forecasts and the honest comparison
the page states (the naive forecast is not beaten, on every stock and seed); the autoencoder
against the distance baseline; the sentiment probe on support messages."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
import torch

from nnplay import data
from nnplay.data import domains
from nnplay.lessons import applications as app
from nnplay.train import predict_proba
from nnplay.train.jobs import Cancelled


# ---- health --------------------------------------------------------------------------------------
def brute_force(truth, score, specificity):
    best = (0.0, 1.0)
    for t in np.append(np.unique(score), np.inf):
        flagged = score >= t
        spec = 1 - flagged[truth == 0].mean()
        if spec >= specificity - 1e-12:
            best = max(best, (flagged[truth == 1].mean(), spec))
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sensitivity_at_specificity_matches_a_brute_force_search(seed):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, 300)
    score = np.round(rng.random(300) * 0.6 + truth * 0.4, 2)   # ties on purpose
    for target in (0.8, 0.9, 0.95, 0.99):
        got = app.sensitivity_at_specificity(truth, score, target)
        sens, spec = brute_force(truth, score, target)
        assert got["sensitivity"] == pytest.approx(sens)
        assert got["specificity"] >= target and got["specificity"] == pytest.approx(spec)
        flagged = score >= got["threshold"]
        assert flagged[truth == 1].mean() == pytest.approx(sens)
    assert math.isnan(app.sensitivity_at_specificity([1, 1], [0.2, 0.9])["sensitivity"])


def test_ece_weighs_each_bins_gap_by_its_rows():
    frame = pd.DataFrame({"mean_predicted": [0.1, 0.5, 0.9], "observed": [0.1, 0.3, 1.0],
                          "count": [10, 20, 70]})
    assert app.expected_calibration_error(frame) == pytest.approx((20 * 0.2 + 70 * 0.1) / 100)
    rng = np.random.default_rng(0)
    p = rng.random(5000)
    y = (rng.random(5000) < p).astype(int)           # calibrated by construction
    report = app.health_report(y, np.column_stack([1 - p, p]), 1, ["healthy", "sick"],
                               n_boot=10)
    assert report.ece < 0.03 and report.auc > 0.7


def test_health_report_and_its_sentence_hold_together():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], [150, 50])
    p = np.clip(rng.normal(0.3 + 0.4 * y, 0.15), 0.01, 0.99)
    report = app.health_report(y, np.column_stack([1 - p, p]), 1, ["benign", "malignant"], 0.9)
    low, high = report.sensitivity_interval
    assert low <= report.sensitivity <= high and report.specificity >= 0.9
    assert report.n_positive == 50 and report.positive_name == "malignant"
    sentence = app.health_sentence(report)
    assert f"{report.sensitivity:.0%} of the 50 'malignant'" in sentence
    assert "at most 15 of the 150 'benign'" in sentence and not re.search(r"\bnan\b", sentence)
    with pytest.raises(ValueError, match="Specificity must be"):
        app.health_report(y, np.column_stack([1 - p, p]), 1, ["a", "b"], 1.0)


def test_offline_the_health_vignette_uses_the_ihc_slide_and_says_why():
    sources = app.health_sources()
    assert sources["ihc_patches"] == "" and sources["breast_cancer"] == ""
    if sources["medmnist"]:
        assert app.default_health_source() == "ihc_patches"
        with pytest.raises(ValueError, match="pip install medmnist"):
            app.health_dataset("medmnist")
    with pytest.raises(ValueError, match="Unknown source"):
        app.health_dataset("xray")
    assert app.positive_class(data.load("breast_cancer")) == 0     # malignant


def test_an_mlp_finds_most_malignant_biopsies_at_95_percent_specificity():
    ds = app.health_dataset("breast_cancer")
    trainer = app.health_trainer(ds, seed=0)
    assert trainer.spec.family == "mlp"
    trainer.fit()
    report = app.health_report(ds.y_test, predict_proba(trainer.model, ds.X_test),
                               app.positive_class(ds), ds.class_names)
    assert report.positive_name == "malignant" and report.n_positive == 53
    assert report.auc > 0.97 and report.sensitivity >= 0.85 and report.ece < 0.1


@pytest.mark.slow
def test_a_cnn_tells_stained_tissue_from_the_nuclei_alone():
    ds = app.health_dataset("ihc_patches")
    trainer = app.health_trainer(ds, epochs=4, seed=0)
    assert trainer.spec.family == "cnn"
    with app.single_thread():
        trainer.fit()
    report = app.health_report(ds.y_test, predict_proba(trainer.model, ds.X_test), 1,
                               ds.class_names)
    assert report.auc > 0.85 and report.sensitivity > 0.3


def test_a_training_job_trains_on_one_thread_and_restores_the_count():
    before = torch.get_num_threads()
    trainer = app.anomaly_trainer(data.load("transactions", n=300), epochs=2)
    job = app.training_job(trainer).start().join(120)
    assert job.status == "completed" and job.trainer is trainer and trainer.epoch == 2
    assert job.describe().startswith("Epoch 2/2")
    assert torch.get_num_threads() == before


# ---- finance: forecasting ------------------------------------------------------------------------
def test_walk_forward_forecasts_cover_every_test_day_once():
    result = app.forecast_comparison("IBM", window=5, n_folds=2, epochs=1, hidden=4)
    days = round(0.4 * (len(domains.stock_prices("IBM")) - 1 - 5))   # returns less the window
    assert result.folds_done == 2 and len(result.actual) == len(result.dates) == days
    assert result.dates == sorted(result.dates) and len(set(result.dates)) == days
    assert result.dates[-1] == "2013-03-01"
    assert (result.predictions["naive"] == 0).all()
    errors = result.errors()
    assert errors.loc["naive", "mae"] == pytest.approx(np.abs(result.actual).mean())
    lstm = result.predictions["lstm"]
    rmse = np.sqrt(((result.actual - lstm) ** 2).mean())
    assert errors.loc["lstm", "rmse"] == pytest.approx(rmse)
    assert math.isnan(errors.loc["naive", "direction"])
    assert result.trainer.spec.family == "lstm"
    table = app.forecast_table(result)
    assert table.loc[app.FORECASTERS["naive"], "direction right"] == "—"
    assert not table.apply(lambda col: col.str.contains("nan")).any().any()


def test_a_stop_keeps_the_finished_folds():
    stopped = []

    def progress(done, total):
        if done >= 1:
            stopped.append(True)

    with pytest.raises(Cancelled) as err:
        app.forecast_comparison("MSFT", window=5, n_folds=3, epochs=1, hidden=4,
                                progress=progress, should_stop=lambda: bool(stopped))
    partial = err.value.result
    assert partial.folds_done == 1 and partial.n_folds == 3
    assert len(partial.actual) == len(partial.predictions["lstm"]) < 1300


def fake_result(linear_error: float, lstm_error: float) -> app.ForecastResult:
    rng = np.random.default_rng(0)
    actual = rng.normal(0, 1.5, 400)
    noise = rng.normal(0, 1, 400)
    return app.ForecastResult("AAPL", 20, 4, [f"2010-01-{i:03d}" for i in range(400)], actual,
                              {"naive": np.zeros(400),
                               "linear": actual * (1 - linear_error) + 0.01 * noise,
                               "lstm": np.full(400, 0.05) + lstm_error * noise},
                              np.zeros(400, dtype=int))


def test_the_verdict_and_sentence_follow_the_numbers():
    beaten = fake_result(0.5, 0.0)          # linear halves the error; lstm is a tiny drift
    v = app.forecast_verdict(beaten.errors())
    assert v["winners"] == ["linear"] and not v["naive_hard_to_beat"]
    assert "Here the linear model beats the naive forecast" in app.forecast_sentence(beaten)
    unbeaten = fake_result(1.2, 0.0)       # linear overshoots the wrong way: worse than naive
    assert app.forecast_verdict(unbeaten.errors())["naive_hard_to_beat"]
    sentence = app.forecast_sentence(unbeaten)
    assert "Neither model beats the naive forecast" in sentence
    assert "The LSTM says 'up' on 100% of days" in sentence
    assert app.against_naive(0.0002) == "the same error as naive to 0.1%"
    assert app.against_naive(-0.031) == "3.1% less error than naive"


@pytest.mark.slow
@pytest.mark.parametrize("ticker", domains.STOCK_TICKERS)
def test_the_naive_forecast_is_not_beaten_on_any_stock_or_seed(ticker):
    """The page's claim, measured as the page measures it (its default settings)."""
    for seed in (0, 1):
        result = app.forecast_comparison(ticker, seed=seed)
        errors = result.errors()
        assert app.forecast_verdict(errors)["naive_hard_to_beat"], errors
        assert "Neither model beats the naive forecast" in app.forecast_sentence(result)
        assert (errors["mae_vs_naive"].drop("naive") > -app.CLEAR_GAIN).all()
        # and neither calls the direction much better than a coin or 'up every day'
        assert (errors["direction"].drop("naive") < max(0.56, result.up_share + 0.02)).all()


# ---- finance: anomalies --------------------------------------------------------------------------
def test_anomaly_report_counts_at_the_threshold_set_on_genuine_rows():
    genuine = np.linspace(0, 1, 101)
    test = np.array([0.2, 0.995, 0.5, 1.5, 2.0, 0.1])
    y = np.array([0, 0, 1, 1, 1, 0])
    kinds = np.array(["normal", "normal", "spree", "spree", "card testing", "normal"])
    r = app.anomaly_report(genuine, test, y, kinds, flag_share=0.02)
    assert r.threshold == pytest.approx(0.98)
    assert (r.tp, r.fp, r.fn) == (2, 1, 1)
    assert r.recall == pytest.approx(2 / 3) and r.precision == pytest.approx(2 / 3)
    assert r.recall_by_kind == {"card testing": 1.0, "spree": 0.5}
    table = app.anomaly_table({"autoencoder": r, "distance": r})
    assert table.iloc[0]["frauds caught"] == "2 of 3"
    with pytest.raises(ValueError, match="Flag between"):
        app.anomaly_report(genuine, test, y, kinds, flag_share=0.9)


def test_the_autoencoder_learns_only_genuine_transactions():
    ds = data.load("transactions", n=1000)
    ae = app.autoencoder_dataset(ds)
    assert ae.n_train == int((ds.y_train == 0).sum()) and ae.n_test == ds.n_test
    np.testing.assert_array_equal(ae.X_train, ae.y_train)
    trainer = app.anomaly_trainer(ds, epochs=3)
    with app.single_thread():
        trainer.fit()
    scores = app.anomaly_scores(trainer.model, ds)
    assert scores["autoencoder"][0].shape == (ae.n_train,)
    assert scores["distance"][1].shape == (ds.n_test,)


@pytest.mark.slow
def test_the_autoencoder_catches_most_fraud_over_seeds():
    wins = 0
    for seed in range(3):
        ds = data.load("transactions", seed=seed)
        trainer = app.anomaly_trainer(ds, seed=seed)
        with app.single_thread():
            trainer.fit()
        reports = {k: app.anomaly_report(*v, ds.y_test, ds.extra["kind_test"], 0.02)
                   for k, v in app.anomaly_scores(trainer.model, ds).items()}
        ae, base = reports["autoencoder"], reports["distance"]
        assert ae.recall > 0.7 and ae.average_precision > 0.7
        wins += ae.average_precision > base.average_precision
        earns = "earns its place" in app.anomaly_sentence(reports)
        assert earns == (ae.average_precision > base.average_precision)
    assert wins >= 2


# ---- support -------------------------------------------------------------------------------------
def test_tfidf_sentiment_learns_words_and_says_which_pushed():
    texts = ["great film", "wonderful acting", "great story", "awful plot", "terrible acting",
             "awful film"] * 3
    labels = [1, 1, 1, 0, 0, 0] * 3
    model = app.TfidfSentiment().fit(texts, labels)
    proba = model.predict_proba(["great acting", "awful story"])
    assert proba[0, 1] > 0.5 > proba[1, 1]
    terms = dict(model.top_terms("a great but awful film"))
    assert terms["great"] > 0 > terms["awful"]
    assert model.top_terms("zebra") == []


def test_the_probe_scores_every_message_and_checks_it():
    always_positive = lambda texts: np.full(len(texts), 0.9)   # noqa: E731
    frame = app.support_probe(always_positive)
    messages = domains.support_messages()
    assert len(frame) == len(messages)
    assert (frame["correct"] == (messages["sentiment"] == "positive")).all()
    summary = app.probe_summary(frame)
    assert summary.loc["sarcasm", "right"] == 0 and summary["messages"].sum() == len(frame)
    sentence = app.support_sentence(frame, 0.8, "film snippets")
    assert "right 80.0% of the time" in sentence and "written for this demo" in sentence
    assert f"reads {int(frame['correct'].sum())} right" in sentence
    with pytest.raises(ValueError, match="Write a message"):
        app.score_messages(["  "], always_positive)


def test_the_drug_review_baseline_reads_held_out_reviews():
    model, accuracy, n_test = app.sentiment_baseline("drug_reviews")
    assert n_test == 223 and accuracy > 0.7
    frame = app.support_probe(lambda t: model.predict_proba(t)[:, 1], model.top_terms)
    assert frame["pushed_by"].str.len().gt(0).all()
    worst = app.probe_summary(frame)["share_right"].idxmin()
    misled = frame.loc[~frame["correct"] & (frame["difficulty"] == worst), "decisive_term"]
    sentence = app.support_sentence(frame, accuracy, "drug reviews")
    assert f"In the '{worst}' messages, words such as {misled.iloc[0]!r}" in sentence
    table = app.probe_table(frame)
    assert table["right"].tolist() == sorted(table["right"]) and "P(positive)" in table


@pytest.mark.slow
def test_a_session_text_model_is_scored_through_its_own_tokenizer():
    from nnplay.data import text

    ds = text.rotten_tomatoes(n=40, max_len=16)

    class Fake(torch.nn.Module):   # token ids -> logits, like Lab 3's TextClassifier
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.EmbeddingBag(40_000, 2)

        def forward(self, ids):
            return self.emb(ids)

    entry = type("Entry", (), {"dataset": ds})()
    assert app.is_text_model(entry)
    score = app.text_model_scorer(Fake(), ds)
    p = score(["great", "the app crashed"])
    assert p.shape == (2,) and ((0 <= p) & (p <= 1)).all()
