"""Lesson: monitoring. A simulated production stream for a model of this session: drift tests per
column and window, accuracy estimated before the labels arrive and measured after, latency, an
alert log, why the drift test switches at 1,000 rows, and retraining on recent data. All numbers
come from nnplay.production (monitor, drift) and nnplay.lessons.monitoring; figures from
nnplay.plots.monitoring.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from nnplay.lessons import monitoring as lesson
from nnplay.plots import monitoring as mplots
from nnplay.production import monitor
from nnplay.train.jobs import Job
from nnplay.ui import monitoring_view, state
from nnplay.ui import workspace as ws
from nnplay.ui.jobs import job_panel, job_running, start_job
from nnplay.ui.widgets import clamped_slider, dataset_picker, device_badge

SETTINGS, RESULTS, RETRAIN_JOB = "mon_settings", "mon_results", "mon_retrain_job"
KEPT_RESULTS = 6
# scenario None: on a first visit, a new category where the data has one, else a sudden shift
DEFAULTS = {"scenario": None, "windows": 12, "start": 6, "window_size": 100, "label_delay": 2,
            "share": 0.5, "reference_rows": 1000, "seed": 0, "demo_shift": lesson.DEMO_SHIFT}


def restore_settings() -> dict:
    return state.kept_settings(SETTINGS, "mon_set_", DEFAULTS, skip=("model",))


remembered = partial(state.remembered, RESULTS)
remember = partial(state.remember, RESULTS, limit=KEPT_RESULTS)


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
    windows = clamped_slider(c1, "Windows", 4, 30, "mon_set_windows")
    start = clamped_slider(c2, "Drift starts in window", 0, windows - 1, "mon_set_start",
                           disabled=scenario == "none")
    size = clamped_slider(c3, "Rows per window", monitor.MIN_ROWS, pool, "mon_set_window_size",
                          help=f"{pool} unseen test rows to draw from")
    delay = clamped_slider(c4, "Labels arrive after (windows)", 0, windows - 1, "mon_set_label_delay")
    c1, c2 = st.columns(2)
    reference_rows = clamped_slider(
        c1, "Reference rows (from the training split)", min(100, ds.n_train), ds.n_train,
        "mon_set_reference_rows", help="Up to 1,000 rows the drift tests give p-values; above, "
        "distances (see why at the bottom of the page).")
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
    kept = remembered(*key)
    if kept is None:
        stream = monitor.simulate_stream(entry.dataset, s["scenario"], s["strength"], s["start"],
                                         s["windows"], s["window_size"], s["seed"], s["feature"])
        result = monitor.run_monitoring(entry.model, entry.dataset, stream, s["label_delay"],
                                        s["share"], s["reference_rows"])
        ws.workspace().add_finding(entry.name, "monitoring", result.summary())
        kept = remember((stream, result), *key)
    return kept


def drift_section(stream, result) -> None:
    st.subheader("Drift per column")
    st.markdown(lesson.drift_rule_text(result))
    st.plotly_chart(mplots.drift_heatmap_figure(result.drift, stream.start), key="mon_heatmap")
    st.caption(lesson.drift_sentence(result))


def accuracy_section(stream, result) -> None:
    st.subheader("Accuracy before and after the labels arrive")
    st.latex(lesson.CBPE_LATEX)
    st.markdown(lesson.cbpe_text(result))
    st.plotly_chart(mplots.accuracy_figure(result.windows, result.reference_accuracy,
                                           result.accuracy_drop, result.label_delay,
                                           stream.start), key="mon_accuracy")
    st.caption(lesson.accuracy_sentence(result))
    st.plotly_chart(mplots.reliability_figure(result.reliability, result.calibration_map),
                    key="mon_reliability")


def stream_section(ds, stream) -> None:
    trace = lesson.scenario_trace(ds, stream)
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


def retrain_key(entry, stream, label_delay: int) -> tuple:
    return ("retrain", entry.name, entry.record.created, stream.scenario, stream.strength,
            stream.start, stream.n_windows, stream.window_size, stream.columns, label_delay)


def start_retraining(entry, stream, label_delay: int) -> None:
    try:
        trainer, data = lesson.retrain_trainer(entry, stream, label_delay)
    except ValueError as err:
        st.session_state[RETRAIN_JOB] = {"error": str(err)}
        return
    start_job(RETRAIN_JOB, Job.for_trainer(trainer, label="retrain on recent data"),
              entry=entry.name, old=entry.model, data=data,
              result_key=retrain_key(entry, stream, label_delay))


def finish_retraining(job: dict) -> None:
    trainer = job["worker"].trainer
    if trainer.epoch == 0:
        return
    new = ws.register(trainer, lesson="monitoring", name=f"{job['entry']} retrained on recent data")
    comparison = monitor.compare_models(job["old"], trainer.model, job["data"])
    remember((comparison, new.name if new else None, job["data"].extra["recent_rows"]),
             *job["result_key"])


def retrain_section(entry, stream, result) -> None:
    st.subheader("Retrain on recent data")
    st.markdown(lesson.RETRAIN_TEXT)
    st.button("Retrain on recent data", key="mon_retrain", on_click=start_retraining,
              args=(entry, stream, result.label_delay), disabled=job_running(RETRAIN_JOB))
    job_panel(RETRAIN_JOB, finish_retraining, what="Retraining")
    done = remembered(*retrain_key(entry, stream, result.label_delay))
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
    st.caption(lesson.LATENCY_NOTE)
    st.subheader("Every window")
    st.dataframe(lesson.window_table(result), hide_index=True, key="mon_windows")
    alerts_section(result)
    retrain_section(entry, stream, result)


def main() -> None:
    st.title("Monitoring")
    device_badge()
    st.markdown(lesson.INTRO)
    restore_settings()
    entry = pick_model()
    if entry is not None:
        monitoring_part(entry)
    monitoring_view.sample_size_section(st.session_state[SETTINGS])


try:
    main()
except ValueError as err:
    st.error(f"That setting could not be used: {err}")
