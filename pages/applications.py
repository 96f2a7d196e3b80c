"""Lesson: applications. Three domains, each judged by what matters there: a screening network's
sensitivity at a fixed specificity and its calibration; stock forecasts against the naive
baseline, and an autoencoder flagging generated card fraud; a sentiment model on support
messages, with the ones it gets wrong.
"""

from __future__ import annotations

import streamlit as st

from nnplay.data import domains
from nnplay.lessons import applications as lesson
from nnplay.plots import applications as plots
from nnplay.train import predict_proba
from nnplay.train.jobs import Job
from nnplay.ui import applications_view, cache, widgets
from nnplay.ui import workspace as ws
from nnplay.ui.jobs import job_panel, job_running, settle_job, start_job
from nnplay.ui.state import user_errors

HEALTH_JOB, FORECAST_JOB, FRAUD_JOB = "app_health_job", "app_forecast_job", "app_fraud_job"
FORECASTS = "app_forecasts"   # settings -> ForecastResult, kept for the session


# ---- health ----------------------------------------------------------------------------------
def start_health(ds, settings: tuple) -> None:
    with user_errors("These settings"):
        trainer = lesson.health_trainer(ds, epochs=settings[2], seed=settings[1])
        start_job(HEALTH_JOB, lesson.training_job(trainer), settings=settings)


def finish_health(job: dict) -> None:
    trainer = job["worker"].trainer
    job["proba"] = predict_proba(trainer.model, trainer.dataset.X_test)
    entry = ws.register(trainer, lesson="applications",
                        name=f"health {trainer.spec.family} on {trainer.dataset.name}")
    job["name"] = entry.name if entry is not None else ""


def health_results(job: dict) -> None:
    ds, proba = job["worker"].trainer.dataset, job["proba"]
    if job.get("name"):
        st.caption(f"Added to this session's models as **{job['name']}**.")
    target = st.slider("Specificity to hold (share of healthy cases left alone)", 0.80, 0.99, 0.95,
                       step=0.01, key="app_specificity")
    report = lesson.health_report(ds.y_test, proba, lesson.positive_class(ds), ds.class_names,
                                  target)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(f"Sensitivity at {target:.0%} specificity", lesson.shown(report.sensitivity, ".1%"))
    c2.metric("Specificity reached", lesson.shown(report.specificity, ".1%"))
    c3.metric("ROC AUC", lesson.shown(report.auc))
    c4.metric("ECE", lesson.shown(report.ece))
    st.markdown(lesson.health_sentence(report))
    left, right = st.columns(2)
    left.plotly_chart(plots.operating_point_figure(report.roc, report.auc, report.sensitivity,
                                                   report.specificity, target,
                                                   report.positive_name), key="app_roc_fig")
    right.plotly_chart(plots.reliability_figure(report.calibration, report.ece,
                                                report.positive_name), key="app_reliability_fig")
    st.caption("The operating point is read off the test ROC curve; in a clinic the threshold "
               "is fixed beforehand on separate data, and the specificity it reaches then "
               "wobbles around the target. The interval resamples the test cases 200 times.")


def health_section() -> None:
    sources = lesson.health_sources()
    if sources["medmnist"]:
        st.info(sources["medmnist"])
    available = [s for s, why in sources.items() if not why]
    c1, c2, c3 = st.columns([3, 1, 1])
    source = c1.radio("Data", available, format_func=lesson.HEALTH_SOURCES.get,
                      key="app_health_source")
    seed = int(c3.number_input("Seed", 0, 10_000, 0, key="app_health_seed"))
    with user_errors("This data"):
        ds = cache.load_dataset(source) if source == "medmnist" else \
            cache.load_dataset(source, seed=seed)
        kind = "image" if len(ds.input_shape) == 3 else "tabular"
        epochs = int(c2.number_input("Epochs", 1, 200, lesson.HEALTH_EPOCHS[kind],
                                     key=f"app_health_epochs_{kind}"))
        st.caption(lesson.HEALTH_NOTES[source])
        applications_view.health_data_figure(source, ds)
        settings = (source, seed, epochs)
        job = st.session_state.get(HEALTH_JOB)
        if job is None:   # first visit: train at once
            start_health(ds, settings)
        elif job.get("settings") != settings:
            st.button(f"Train a {'CNN' if kind == 'image' else 'MLP'} on this data",
                      type="primary", key="app_health_train", on_click=start_health,
                      args=(ds, settings), disabled=job_running(HEALTH_JOB))
    done = job_panel(HEALTH_JOB, finish_health)
    if done is not None and "proba" in done:
        if done["settings"] != settings:
            st.caption("These results are for the data and settings trained last: "
                       f"{lesson.HEALTH_SOURCES[done['settings'][0]]}, seed {done['settings'][1]}.")
        health_results(done)


# ---- finance -----------------------------------------------------------------------------------
def start_forecast(settings: tuple) -> None:
    ticker, window, epochs, seed = settings
    job = Job(lesson.forecast_comparison, ticker=ticker, window=window, epochs=epochs, seed=seed,
              label=f"forecast {ticker}")
    start_job(FORECAST_JOB, job, settings=settings)


def finish_forecast(job: dict) -> None:
    result = job["worker"].result
    if result is None:
        return
    st.session_state.setdefault(FORECASTS, {})[job["settings"]] = result
    if result.trainer is not None:
        ws.register(result.trainer, lesson="applications",
                    name=f"LSTM forecaster {result.ticker}", quiet=True)


def forecast_section() -> None:
    st.markdown("**Tomorrow's price.** Real adjusted daily closes (bokeh-sampledata, public "
                "domain, 2000-2013). Every forecaster is tested walk-forward on the last 40% of "
                "days, in 4 blocks; for each block it learns only from the days before it.")
    c1, c2, c3, c4 = st.columns(4)
    ticker = c1.selectbox("Stock", domains.STOCK_TICKERS, key="app_ticker")
    window = c2.select_slider("Days it sees", (5, 10, 20, 40), value=20, key="app_window")
    epochs = int(c3.number_input("LSTM epochs per block", 1, 50, 5, key="app_fc_epochs"))
    seed = int(c4.number_input("Seed", 0, 10_000, 0, key="app_fc_seed"))
    settings = (ticker, window, epochs, seed)
    settle_job(FORECAST_JOB, finish_forecast)
    results = st.session_state.setdefault(FORECASTS, {})
    if FORECAST_JOB not in st.session_state:   # first visit: compare at once
        start_forecast(settings)
    st.button("Run the walk-forward comparison", type="primary", key="app_fc_run",
              on_click=start_forecast, args=(settings,),
              disabled=job_running(FORECAST_JOB) or settings in results)
    job_panel(FORECAST_JOB, finish_forecast, what="Walk-forward comparison")
    result = results.get(settings)
    if result is None:
        return
    if result.folds_done < result.n_folds:
        st.warning(f"Stopped: {result.folds_done} of {result.n_folds} test blocks were finished; "
                   "the numbers are for those.")
    st.dataframe(lesson.forecast_table(result), key="app_fc_table")
    st.markdown(lesson.forecast_sentence(result))
    st.plotly_chart(plots.forecast_figure(result.dates, result.actual, result.predictions,
                                          lesson.FORECASTERS), key="app_fc_fig")


def start_fraud(ds, epochs: int, seed: int) -> None:
    trainer = lesson.anomaly_trainer(ds, epochs=epochs, seed=seed)
    start_job(FRAUD_JOB, lesson.training_job(trainer), settings=(epochs, seed), dataset=ds)


def finish_fraud(job: dict) -> None:
    job["scores"] = lesson.anomaly_scores(job["worker"].trainer.model, job["dataset"])


def fraud_section() -> None:
    st.markdown("**Unusual card transactions.**")
    st.info("These transactions are GENERATED by nnplay, not real card data: amount, hour, "
            "distance from home, time since the last payment, payments in 24 h, abroad, online; "
            "2% are fraud (sprees on a stolen card, and card testing with tiny amounts).")
    st.caption("The autoencoder learns to squeeze genuine transactions through 2 numbers and "
               "back; what it reconstructs badly is unusual.")
    c1, c2 = st.columns(2)
    epochs = int(c1.number_input("Autoencoder epochs", 1, 200, 40, key="app_fraud_epochs"))
    seed = int(c2.number_input("Seed", 0, 10_000, 0, key="app_fraud_seed"))
    ds = cache.load_dataset("transactions", seed=seed)
    job = st.session_state.get(FRAUD_JOB)
    if job is None:
        start_fraud(ds, epochs, seed)
    elif job.get("settings") != (epochs, seed):
        st.button("Train the autoencoder", type="primary", key="app_fraud_train",
                  on_click=start_fraud, args=(ds, epochs, seed),
                  disabled=job_running(FRAUD_JOB))
    done = job_panel(FRAUD_JOB, finish_fraud, what="Training the autoencoder")
    if done is None or "scores" not in done:
        return
    share = st.slider("False alarm budget: share of genuine transactions flagged", 0.5, 10.0,
                      2.0, step=0.5, format="%.1f%%", key="app_flag_percent") / 100
    test = done["dataset"]
    reports = {name: lesson.anomaly_report(*scores, test.y_test, test.extra["kind_test"], share)
               for name, scores in done["scores"].items()}
    st.dataframe(lesson.anomaly_table(reports), key="app_fraud_table")
    st.markdown(lesson.anomaly_sentence(reports))
    r = reports["autoencoder"]
    st.plotly_chart(plots.reconstruction_figure(r.scores_test, r.labels_test, r.threshold),
                    key="app_fraud_fig")


# ---- support -------------------------------------------------------------------------------------
@st.cache_resource(max_entries=2, show_spinner="Training TF-IDF + logistic regression...")
def review_baseline(source: str):
    return lesson.sentiment_baseline(source)


def support_section() -> None:
    models = [m for m in ws.workspace().list() if lesson.is_text_model(m)]
    labels = (["A sentiment model from this session (Lab 3)"] if models else []) + \
        ["TF-IDF + logistic regression, trained here on reviews"]
    choice = st.radio("Model", labels, horizontal=True, key="app_text_source")
    if not models:
        st.caption("No Lab 3 sentiment model in this session yet; train one on the Lab 3 page "
                   "to probe it here.")
    explain = None
    with user_errors("This model"):
        if choice == labels[0] and models:
            names = [m.name for m in models]
            entry = ws.workspace().get(st.selectbox("Session model", names, key="app_text_model"))
            score = lesson.text_model_scorer(entry.model, entry.dataset)
            heldout = entry.metrics.get("accuracy")
            trained_on = entry.dataset.name.replace("_", " ") + " reviews"
        else:
            source = st.radio("Trained on", list(domains.REVIEW_SOURCES), horizontal=True,
                              format_func=domains.REVIEW_SOURCES.get, key="app_review_source")
            model, heldout, _ = review_baseline(source)
            score, explain = (lambda texts: model.predict_proba(texts)[:, 1]), model.top_terms
            trained_on = domains.REVIEW_SOURCES[source].split(" (")[0]
        frame = lesson.support_probe(score, explain)
        st.markdown(lesson.support_sentence(frame, heldout, trained_on))
        st.plotly_chart(plots.probe_figure(lesson.probe_summary(frame)), key="app_probe_fig")
        st.dataframe(lesson.probe_table(frame), hide_index=True, height=36 * (len(frame) + 1),
                     key="app_probe_table")
        mine = st.text_input("Try a message of your own", max_chars=300, key="app_own_message")
        if mine.strip():
            own = lesson.score_messages([mine.strip()], score, explain)
            st.dataframe(own.drop(columns=["decisive_term"], errors="ignore"), hide_index=True,
                         key="app_own_table")


st.title("Applications")
widgets.device_badge()
st.markdown("Three domains, each judged by the numbers that matter there.")
health_tab, finance_tab, support_tab = st.tabs(
    ["Health images", "Finance: prices and fraud", "Support messages"], key="app_tab",
    on_change="rerun")
if health_tab.open:
    with health_tab:
        health_section()
if finance_tab.open:
    with finance_tab:
        forecast_section()
        st.divider()
        fraud_section()
if support_tab.open:
    with support_tab:
        support_section()
ws.show_notice()
