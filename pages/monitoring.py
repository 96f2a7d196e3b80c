"""Lesson: monitoring. A simulated production stream for a model of this session: drift tests per
column and window, accuracy estimated before the labels arrive and measured after, latency, an
alert log, why the drift test switches at 1,000 rows, and retraining on recent data. All numbers
come from nnplay.production (monitor, drift) and nnplay.lessons.monitoring; figures from
nnplay.plots.monitoring.
"""

from __future__ import annotations

import json

import streamlit as st

from nnplay.lessons import monitoring as lesson
from nnplay.plots import monitoring as mplots
from nnplay.production import monitor
from nnplay.train.jobs import Job
from nnplay.train.quick import default_config, quick_trainer
from nnplay.ui import workspace as ws
from nnplay.ui.jobs import job_panel, job_running, start_job
from nnplay.ui.widgets import dataset_picker, device_badge

SETTINGS, RESULTS, RETRAIN_JOB = "mon_settings", "mon_results", "mon_retrain_job"
KEPT_RESULTS = 6
# scenario None: on a first visit, a new category where the data has one, else a sudden shift
DEFAULTS = {"scenario": None, "windows": 12, "start": 6, "window_size": 100, "label_delay": 2, "share": 0.5, "reference_rows": 1000, "seed": 0,
            "demo_shift": lesson.DEMO_SHIFT}


def restore_settings() -> dict:
    """The settings kept in session state (Streamlit forgets the widgets of a page not drawn):
    put each widget's value back before the widgets are made."""
    settings = st.session_state.setdefault(SETTINGS, dict(DEFAULTS))
    for name, value in settings.items():
        if value is not None:
            st.session_state.setdefault(f"mon_set_{name}", value)
    return settings


def remember(key: tuple, value):
    kept = st.session_state.setdefault(RESULTS, {})
    kept[json.dumps(key, default=str)] = value
    while len(kept) > KEPT_RESULTS:
        kept.pop(next(iter(kept)))
    return value


def remembered(key: tuple):
    return st.session_state.setdefault(RESULTS, {}).get(json.dumps(key, default=str))


def pick_model():
    settings = st.session_state[SETTINGS]
    names = [m.name for m in ws.workspace().list(task="classification", kind="tabular")]
    if settings.get("model") in names:   # the model picked before a visit to another page
        st.session_state.setdefault("mon_model", settings["model"])
        st.session_state.setdefault("mon_source", "From this session")
    entry = ws.pick_or_train(
        "mon", "monitoring",
        lambda: dataset_picker("mon_spot", kinds=("real", "toy"), tasks=("classification",),
                               default=lesson.DEFAULT_DATA),
        spec_for=lesson.spec_for, epochs=lesson.EPOCHS, task="classification", kind="tabular",
        what="a network")
    st.caption("Monitoring works on tabular classification models; image and regression models "
               "of this session are not listed.")
    if entry is not None:
        settings["model"] = entry.name
    return entry


def stream_controls(ds) -> dict:
    """The scenario and the stream's shape; each value is kept in the page's settings."""
    settings = st.session_state[SETTINGS]
    pool = len(monitor.reference_split(ds)[1])
    if "mon_set_scenario" not in st.session_state:
        st.session_state["mon_set_scenario"] = lesson.first_scenario(ds)
    c1, c2, c3 = st.columns(3)
    scenario = c1.selectbox("Scenario", list(monitor.SCENARIOS), key="mon_set_scenario",
                            format_func=lesson.SCENARIO_LABELS.get)
    c1.caption(monitor.SCENARIOS[scenario])
    choices = monitor.scenario_columns(ds, scenario)
    feature, strength = None, 0.0
    if choices:
        key = f"mon_set_feature_{scenario}"
        kept = settings.get(f"feature_{scenario}")
        if st.session_state.get(key) not in choices:   # dropped, or another model's column
            st.session_state[key] = kept if kept in choices else choices[0]
        feature = c2.selectbox("Column" if scenario != "new_category" else "Categorical column",
                               choices, key=key)
        settings[f"feature_{scenario}"] = feature
    elif scenario == "new_category":
        c2.warning(f"{ds.name} has no categorical or integer-coded column, so no new category "
                   "can appear; pick german_credit or titanic, or another scenario.")
    if lesson.STRENGTH[scenario] is not None:
        label, low, high, default, step = lesson.STRENGTH[scenario]
        key = f"mon_set_strength_{scenario}"
        st.session_state.setdefault(key, settings.get(f"strength_{scenario}", default))
        strength = c3.slider(label, low, high, step=step, key=key)
        settings[f"strength_{scenario}"] = strength
    c1, c2, c3, c4 = st.columns(4)
    st.session_state["mon_set_window_size"] = min(st.session_state["mon_set_window_size"], pool)
    windows = c1.slider("Windows", 4, 30, key="mon_set_windows")
    for name in ("start", "label_delay"):
        st.session_state[f"mon_set_{name}"] = min(st.session_state[f"mon_set_{name}"], windows - 1)
    start = c2.slider("Drift starts in window", 0, windows - 1, key="mon_set_start",
                      disabled=scenario == "none")
    size = c3.slider("Rows per window", 10, pool, step=10 if pool >= 30 else 1,
                     key="mon_set_window_size", help=f"{pool} unseen test rows to draw from")
    delay = c4.slider("Labels arrive after (windows)", 0, windows - 1, key="mon_set_label_delay")
    c1, c2 = st.columns(2)
    low = min(monitor.MIN_ROWS * 10, ds.n_train)
    st.session_state["mon_set_reference_rows"] = min(
        max(st.session_state["mon_set_reference_rows"], low), ds.n_train)
    reference_rows = c1.slider(
        "Reference rows (from the training split)", low, ds.n_train,
        key="mon_set_reference_rows", help="Up to 1,000 rows the drift tests give p-values; "
        "above, distances (see why at the bottom of the page).")
    share = c2.slider("Dataset drift when this share of columns drift", 0.1, 1.0, step=0.05,
                      key="mon_set_share")
    values = {"scenario": scenario, "feature": feature, "strength": float(strength),
              "windows": windows, "start": start, "window_size": size, "label_delay": delay,
              "reference_rows": reference_rows, "share": share, "seed": settings["seed"]}
    settings.update({k: v for k, v in values.items() if k in DEFAULTS})
    return values


def monitor_stream(entry, s: dict):
    """The stream and what monitoring saw, computed once per model and settings."""
    key = ("run", entry.name, entry.record.created, s)
    kept = remembered(key)
    if kept is None:
        stream = monitor.simulate_stream(entry.dataset, s["scenario"], s["strength"], s["start"],
                                         s["windows"], s["window_size"], s["seed"], s["feature"])
        result = monitor.run_monitoring(entry.model, entry.dataset, stream, s["label_delay"],
                                        s["share"], s["reference_rows"])
        ws.workspace().add_finding(entry.name, "monitoring", result.summary())
        kept = remember(key, (stream, result))
    return kept


def drift_section(stream, result) -> None:
    st.subheader("Drift per column")
    st.markdown(
        f"Each window is tested column by column against the {result.n_reference:,} rows the "
        "model learned from, with the test Evidently chooses by default: up to 1,000 reference "
        "rows, Kolmogorov-Smirnov for numbers, chi-squared for categories, a proportion z-test "
        "for two values (drift at p < 0.05); above, Wasserstein distance over the reference's "
        "standard deviation and Jensen-Shannon distance (drift at 0.1). Here: "
        f"{lesson.tests_used(result)}.")
    st.plotly_chart(mplots.drift_heatmap_figure(result.drift, stream.start), key="mon_heatmap")
    drifted = result.windows["dataset_drift"]
    st.caption(f"The dataset drifts in {int(drifted.sum())} of {len(drifted)} windows (at least "
               f"{result.share:.0%} of its columns). Hover a cell for the statistic and PSI. "
               + lesson.false_alarm_sentence(result))


def accuracy_section(stream, result) -> None:
    st.subheader("Accuracy before and after the labels arrive")
    st.latex(r"\widehat{\text{accuracy}}_{w} = \frac{1}{n_w}\sum_{i \in w} "
             r"c\big(\max_k p_k(x_i)\big)")
    st.markdown(
        f"Labels arrive {result.label_delay} window{'s' if result.label_delay != 1 else ''} "
        "late, so the latest windows have none. Their accuracy is *estimated* from the model's "
        "confidence (confidence-based performance estimation, as NannyML's CBPE does): on "
        f"{result.n_calibration} labelled reference rows, isotonic regression learns c, how "
        "often the model is right at each confidence. **The assumption:** that calibration "
        "still holds in production, i.e. only the inputs' distribution changed, not the link "
        "from inputs to labels. A feature that jumps because a sensor broke breaks it: the "
        "estimate can stay high while the realised accuracy falls.")
    st.plotly_chart(mplots.accuracy_figure(result.windows, result.reference_accuracy,
                                           result.accuracy_drop, result.label_delay,
                                           stream.start), key="mon_accuracy")
    labelled = result.windows[result.windows["labelled"]]
    gap = (labelled["estimated_accuracy"] - labelled["realised_accuracy"]).abs().mean()
    st.caption(f"Reference accuracy {result.reference_accuracy:.1%}; over the "
               f"{len(labelled)} labelled windows the estimate is off by {gap:.1%} on average.")
    st.plotly_chart(mplots.reliability_figure(result.reliability, result.calibration_map),
                    key="mon_reliability")


def stream_section(ds, stream) -> None:
    trace = monitor.scenario_trace(ds, stream)
    st.plotly_chart(mplots.scenario_figure(trace, stream.start), key="mon_scenario")
    for note in dict.fromkeys(stream.notes):
        st.caption(f"Note: {note}.")


def alerts_section(result) -> None:
    st.subheader("Alert log")
    alerts = lesson.alert_table(result)
    counts = result.alerts["check"].value_counts()
    cols = st.columns(4)
    for col, check in zip(cols, ("column drift", "dataset drift", "estimated accuracy",
                                 "realised accuracy")):
        col.metric(check.capitalize(), int(counts.get(check, 0)))
    if alerts.empty:
        st.success("No alerts: every window passed every check.")
    else:
        st.dataframe(alerts, hide_index=True, height=260, key="mon_alerts")


@st.cache_data(max_entries=4, show_spinner="Running the tests many times...")
def sample_size_demo(shift: float):
    return lesson.sample_size_demo(shift=shift)


def sample_size_section() -> None:
    st.subheader("Why the test switches at 1,000 rows")
    st.markdown("A p-value asks *could this be chance?* With 50,000 rows the answer is no even "
                "for a shift nobody would act on. A distance asks *how far did it move?*, but "
                "on 100 rows chance alone moves it past 0.1. Both tests on generated data:")
    shift = st.slider("The slight shift (standard deviations)", 0.02, 0.2, step=0.01,
                      key="mon_set_demo_shift")
    st.session_state[SETTINGS]["demo_shift"] = shift
    demo = sample_size_demo(shift)
    st.plotly_chart(mplots.sample_size_figure(demo), key="mon_demo")
    st.caption(lesson.demo_sentence(demo))


def start_retraining(entry, stream, label_delay: int) -> None:
    try:
        data = monitor.retraining_data(entry.dataset, stream, label_delay)
        config = (entry.train_config or default_config(lesson.EPOCHS)).replace(
            early_stopping=None, val_fraction=0.0)   # no peeking at the comparison windows
        trainer = quick_trainer(data, entry.spec, config)
    except ValueError as err:
        st.session_state[RETRAIN_JOB] = {"error": str(err)}
        return
    start_job(RETRAIN_JOB, Job.for_trainer(trainer, label="retrain on recent data"),
              entry=entry.name, old=entry.model, data=data,
              result_key=("retrain", entry.name, entry.record.created, stream.scenario,
                          stream.strength, stream.start, stream.n_windows, stream.window_size,
                          label_delay))


def finish_retraining(job: dict) -> None:
    trainer = job["worker"].trainer
    if trainer.epoch == 0:
        return
    new = ws.register(trainer, lesson="monitoring", name=f"{job['entry']} retrained on recent data")
    comparison = monitor.compare_models(job["old"], trainer.model, job["data"])
    remember(job["result_key"], (comparison, new.name if new else None,
                                 job["data"].extra["recent_rows"]))


def retrain_section(entry, stream, result) -> None:
    st.subheader("Retrain on recent data")
    st.markdown("Train the same network again on the training split plus the recent windows "
                "whose labels have arrived, then compare both on the latest windows. The unseen "
                "rows are split in two first, so the comparison uses rows neither model trained on.")
    st.button("Retrain on recent data", key="mon_retrain", on_click=start_retraining,
              args=(entry, stream, result.label_delay), disabled=job_running(RETRAIN_JOB))
    job_panel(RETRAIN_JOB, finish_retraining, what="Retraining")
    done = remembered(("retrain", entry.name, entry.record.created, stream.scenario,
                       stream.strength, stream.start, stream.n_windows, stream.window_size,
                       result.label_delay))
    if done is None:
        return
    comparison, name, recent = done
    overall = comparison.iloc[-1]
    m1, m2 = st.columns(2)
    m1.metric("Current model on the latest windows", f"{overall['old_accuracy']:.1%}")
    m2.metric("Retrained model", f"{overall['new_accuracy']:.1%}",
              f"{overall['new_accuracy'] - overall['old_accuracy']:+.1%}")
    st.plotly_chart(mplots.retrain_figure(comparison), key="mon_retrain_fig")
    st.caption(f"Trained on the training split plus {recent} recent labelled rows; "
               + (f"saved to your models as {name}." if name else "not saved (no room)."))


def monitoring_part(entry) -> None:
    ds = entry.dataset
    st.subheader("The stream")
    try:
        settings = stream_controls(ds)
        stream, result = monitor_stream(entry, settings)
    except ValueError as err:
        st.error(f"That setting could not be used: {err}")
        return
    stream_section(ds, stream)
    drift_section(stream, result)
    accuracy_section(stream, result)
    st.subheader("Latency and throughput")
    st.plotly_chart(mplots.latency_figure(result.windows), key="mon_latency")
    st.caption("Latency: each row sent alone, as one request; throughput: the whole window as "
               "one batch. Measured on this machine as the page ran.")
    st.subheader("Every window")
    st.dataframe(lesson.window_table(result), hide_index=True, key="mon_windows")
    alerts_section(result)
    retrain_section(entry, stream, result)


def main() -> None:
    st.title("Monitoring")
    device_badge()
    st.markdown("A model in production sees new data every day, and its labels come late, if "
                "ever. Simulate a stream of windows for one of your models, make it drift, and "
                "watch what a monitoring service would see: drift tests, an accuracy estimate "
                "before the labels, latency and alerts.")
    restore_settings()
    entry = pick_model()
    if entry is not None:
        monitoring_part(entry)
    sample_size_section()


try:
    main()
except ValueError as err:
    st.error(f"That setting could not be used: {err}")
