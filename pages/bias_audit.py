"""Lesson: bias audit. Base rates in the data, a model's metrics per group with fairlearn, the
fairness gaps with bootstrap intervals, two mitigations compared, and a downloadable report.
All numbers come from nnplay.responsible.fairness; figures from nnplay.plots.bias_audit.
"""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

from nnplay import data
from nnplay.data.dataset import Dataset
from nnplay.lessons import bias_audit as lesson
from nnplay.plots import bias_audit as fplots
from nnplay.responsible import fairness
from nnplay.responsible.report import audit_report_html
from nnplay.train import predict, predict_proba
from nnplay.train.jobs import Job
from nnplay.ui import cache
from nnplay.ui import workspace as ws
from nnplay.ui.jobs import job_panel, job_running, start_job
from nnplay.ui.widgets import device_badge

UPLOAD = "Upload a CSV..."
MITIGATION_JOB = "bias_mitigation_job"


@st.cache_data(max_entries=8, show_spinner="Reading your file...")
def csv_dataset(raw: bytes, target: str, sensitive: tuple[str, ...], name: str) -> Dataset:
    """data.from_csv keeping the chosen sensitive columns' raw values, cached by the bytes."""
    return data.from_csv(raw, target=target, task="classification", sensitive=list(sensitive),
                         name=name)


def upload_dataset() -> Dataset | None:
    """A CSV with a target and one or more sensitive columns the learner picks."""
    up = st.file_uploader("CSV file", type=["csv"], key="bias_csv")
    if up is None:
        st.info("Upload a CSV with one row per person, a yes/no outcome and a column such as "
                "sex or age to audit by.")
        return None
    raw = up.getvalue()
    preview = data.inspect_csv(raw)
    cols = list(preview.columns)
    target = st.selectbox("Outcome column", cols, index=cols.index(preview.suggested_target),
                          key="bias_target")
    others = [c for c in cols if c != target]
    sensitive = st.multiselect("Sensitive column(s)", others, default=others[:1],
                               key="bias_csv_sensitive")
    if not sensitive:
        st.info("Pick at least one sensitive column to audit by.")
        return None
    return csv_dataset(raw, target, tuple(sensitive), up.name)


def training_data() -> Dataset | None:
    choice = st.selectbox("Data", [*lesson.BUNDLED, UPLOAD], key="bias_data")
    ds = upload_dataset() if choice == UPLOAD else cache.load_dataset(choice)
    if ds is not None:
        st.caption(ds.description)
        st.select_slider("Hidden layers", lesson.HIDDEN_CHOICES, value=lesson.DEFAULT_HIDDEN,
                         key="bias_hidden")
    return ds


def choose_model():
    """The session's model to audit, or one trained here in the background (the default)."""
    entry = ws.pick_or_train("bias", "bias_audit", training_data, epochs=lesson.EPOCHS,
                             config=lesson.CONFIG,
                             spec_for=lambda ds: lesson.spec_for(st.session_state["bias_hidden"]),
                             task="classification", kind="tabular", what="the network")
    if entry is not None and not lesson.auditable(entry.dataset):
        st.warning(f"{entry.dataset.name} has no sensitive columns to audit by; train on "
                   "german_credit, titanic or a CSV with a sensitive column.")
        return None
    return entry


def choose_groups(ds: Dataset) -> tuple[list[str], int]:
    """The sensitive column(s) to audit by and the favourable class."""
    columns = list(ds.extra["sensitive_columns"])
    default = [c for c in ("sex",) if c in columns] or columns[:1]
    c1, c2 = st.columns(2)
    chosen = c1.multiselect("Audit by (two or more: intersectional groups)", columns,
                            default=default, key="bias_columns")
    names = ds.class_names or ["0", "1"]
    favourable = c2.selectbox("Favourable outcome", names, index=min(1, len(names) - 1),
                              key="bias_favourable")
    return chosen, names.index(favourable)


def audit_section(model, ds: Dataset, columns: list[str], pos: int, n_boot: int):
    """Per-group table, the gaps with intervals and the four-fifths verdict; returns the audit."""
    groups = fairness.combine_groups(ds.extra["sensitive_test"], columns)
    result = fairness.audit(ds.y_test, predict(model, ds.X_test), groups, pos_label=pos,
                            n_boot=n_boot, seed=0)
    st.dataframe(result.by_group.style.format("{:.3f}", subset=result.by_group.columns[1:]),
                 key="bias_by_group")
    st.plotly_chart(fplots.group_metrics_figure(result.by_group), key="bias_metrics_fig")
    st.latex(r"\text{DP difference} = \max_g P(\hat Y{=}1 \mid G{=}g) - "
             r"\min_g P(\hat Y{=}1 \mid G{=}g)")
    st.latex(r"\text{DP ratio} = \frac{\min_g P(\hat Y{=}1 \mid G{=}g)}"
             r"{\max_g P(\hat Y{=}1 \mid G{=}g)}")
    st.latex(r"\text{EO difference} = \max\big(\Delta_g \mathrm{TPR},\; \Delta_g \mathrm{FPR}\big)")
    m1, m2, m3 = st.columns(3)
    m1.metric("Demographic parity difference", f"{result.demographic_parity_difference:.3f}")
    m2.metric("Demographic parity ratio", f"{result.demographic_parity_ratio:.3f}")
    m3.metric("Equalized odds difference", f"{result.equalized_odds_difference:.3f}")
    verdict, sentence = result.four_fifths_verdict()
    {"passed": st.success, "failed": st.error, "inconclusive": st.warning}[verdict](sentence)
    for flag in result.flagged_gaps():
        st.warning(flag)
    st.dataframe(result.gaps(), key="bias_gaps")
    st.plotly_chart(fplots.gap_intervals_figure(result.gaps()), key="bias_gaps_fig")
    return result


def start_mitigations(entry, columns: list[str], pos: int, constraint: str, key: str) -> None:
    ds = entry.dataset
    g_train = fairness.combine_groups(ds.extra["sensitive_train"], columns)
    g_test = fairness.combine_groups(ds.extra["sensitive_test"], columns)
    start_job(MITIGATION_JOB, Job(fairness.run_mitigations, entry.model, ds, g_train, g_test,
                                  constraint, lesson.retrain_config(entry.train_config),
                                  pos_label=pos, spec=entry.spec, label="mitigations"),
              result_key=key, entry=entry.name)


def finish_mitigations(job: dict) -> None:
    result = job["worker"].result
    if job["worker"].status != "completed" or result is None:
        return
    ws.register(result.reweighed_trainer, lesson="bias_audit", name=f"{job['entry']} (reweighed)",
                spec=ws.workspace().get(job["entry"]).spec if job["entry"] in ws.workspace()
                else None)
    st.session_state.setdefault("bias_mitigations", {})[job["result_key"]] = result.table


def mitigation_section(entry, columns: list[str], pos: int):
    """ThresholdOptimizer and reweighing against the original; returns the comparison table."""
    constraint = st.radio("ThresholdOptimizer constraint", list(fairness.CONSTRAINTS),
                          horizontal=True, key="bias_constraint",
                          format_func=lambda c: c.replace("_", " "))
    key = json.dumps([entry.name, columns, pos, constraint])
    st.button("Run the mitigations", key="bias_mitigate", on_click=start_mitigations,
              args=(entry, columns, pos, constraint, key), disabled=job_running(MITIGATION_JOB))
    job_panel(MITIGATION_JOB, finish_mitigations, what="Fitting thresholds and retraining")
    table = st.session_state.get("bias_mitigations", {}).get(key)
    if table is None:
        st.info("Run the mitigations to compare them with the original model.")
        return None
    st.dataframe(table, key="bias_mitigation_table")
    st.plotly_chart(fplots.fairness_accuracy_figure(table), key="bias_tradeoff_fig")
    return table


def thresholds_section(model, ds: Dataset, columns: list[str], pos: int) -> None:
    """One decision threshold per group, moved by hand, with the group metrics live."""
    groups = fairness.combine_groups(ds.extra["sensitive_test"], columns)
    names = sorted({str(g) for g in groups})
    cols = st.columns(min(len(names), 4))
    thresholds = {g: cols[i % len(cols)].slider(f"Threshold for {g}", 0.05, 0.95, 0.5, step=0.01,
                                                key=f"bias_thr_{g}")
                  for i, g in enumerate(names)}
    scores = predict_proba(model, ds.X_test)[:, pos]
    chosen = fairness.audit(ds.y_test, fairness.threshold_predictions(
        scores, np.asarray(groups, dtype=str), thresholds), groups, pos_label=pos)
    st.dataframe(chosen.by_group.style.format("{:.3f}", subset=chosen.by_group.columns[1:]),
                 key="bias_thr_table")
    m1, m2, m3 = st.columns(3)
    m1.metric("Accuracy", f"{chosen.overall['accuracy']:.3f}")
    m2.metric("Demographic parity difference", f"{chosen.demographic_parity_difference:.3f}")
    m3.metric("Equalized odds difference", f"{chosen.equalized_odds_difference:.3f}")


def main() -> None:
    st.title("Bias audit")
    device_badge()
    st.markdown("A model can be accurate overall and still treat groups differently. Audit the "
                "**data** first (who is in it, how often each group has the good outcome), then "
                "the **model** group by group, then try to **fix** it and see what it costs.")
    entry = choose_model()
    if entry is None:
        return
    model, ds, name = entry.model, entry.dataset, entry.name
    columns, pos = choose_groups(ds)
    if not columns:
        st.info("Pick at least one sensitive column.")
        return
    st.header("1. The data")
    table = fairness.data_audit(ds.y_train, fairness.combine_groups(ds.extra["sensitive_train"],
                                                                    columns), pos_label=pos)
    st.dataframe(table, key="bias_data_table")
    st.plotly_chart(fplots.base_rate_figure(table), key="bias_base_fig")
    st.header("2. The model, group by group")
    n_boot = st.slider("Bootstrap resamples for the intervals", 100, 1000, 300, step=100,
                       key="bias_boot")
    result = audit_section(model, ds, columns, pos, n_boot)
    ws.workspace().add_finding(name, "bias_audit", lesson.finding(
        result, columns, (ds.class_names or ["0", "1"])[pos]))
    st.header("3. Mitigation")
    st.markdown("**ThresholdOptimizer** (post-processing) picks a decision threshold per group; "
                "**reweighing** (pre-processing) retrains on data resampled so the outcome is "
                "independent of the group.")
    mitigated = mitigation_section(entry, columns, pos)
    st.header("4. Your own thresholds")
    st.markdown("Set the decision threshold on P(favourable) for each group yourself, as the "
                "ThresholdOptimizer does, and watch each group's rates and the gaps move.")
    thresholds_section(model, ds, columns, pos)
    figures = [("Base rates", fplots.base_rate_figure(table)),
               ("Metrics per group", fplots.group_metrics_figure(result.by_group))]
    if mitigated is not None:
        figures.append(("Fairness against accuracy", fplots.fairness_accuracy_figure(mitigated)))
    report = audit_report_html(f"Bias audit: {name}", result, table, mitigated, figures,
                               notes=[ds.description])
    st.download_button("Download the audit report (HTML)", report, file_name="bias_audit.html",
                       mime="text/html", key="bias_report", on_click="ignore")


try:
    main()
except ValueError as err:
    st.error(f"That setting could not be used: {err}")
