"""Lesson: bias audit. Base rates in the data, a model's metrics per group with fairlearn, the
fairness gaps with bootstrap intervals, two mitigations compared, and a downloadable report.
All numbers come from nnplay.responsible.fairness; figures from nnplay.plots.bias_audit.
"""

from __future__ import annotations

import json

import streamlit as st

from nnplay import data
from nnplay.data.dataset import Dataset
from nnplay.plots import bias_audit as fplots
from nnplay.responsible import fairness
from nnplay.responsible.report import audit_report_html
from nnplay.train import TrainConfig, predict
from nnplay.ui import cache
from nnplay.ui import workspace as ws
from nnplay.ui.widgets import device_badge

BUNDLED = ("german_credit", "titanic")
UPLOAD = "Upload a CSV..."
PAGE = "pages/bias_audit.py"


@st.cache_data(max_entries=8, show_spinner="Reading your file...")
def csv_dataset(raw: bytes, target: str, sensitive: tuple[str, ...]) -> Dataset:
    """data.from_csv keeping the chosen sensitive columns' raw values, cached by the bytes."""
    return data.from_csv(raw, target=target, task="classification", sensitive=list(sensitive))


def dataset_key(ds: Dataset) -> str:
    """What identifies a dataset across reruns (cached loads return copies, not the same object)."""
    return json.dumps([ds.name, ds.n_train, ds.n_features, ds.params], sort_keys=True,
                      default=str)


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
    return csv_dataset(raw, target, tuple(sensitive))


def choose_model() -> tuple[object, Dataset, str] | None:
    """(model, its dataset, its name): one from the session, or one trained here."""
    source = st.radio("Model", ["Train one here", "From this session"], horizontal=True,
                      key="bias_source")
    if source == "From this session":
        entry = ws.model_picker("bias_ws_model", task="classification", kind="tabular")
        if entry is None:
            return None
        if "sensitive_train" not in entry.dataset.extra:
            st.warning(f"{entry.dataset.name} has no sensitive columns to audit by; train on "
                       "german_credit, titanic or a CSV with a sensitive column.")
            return None
        return entry.model, entry.dataset, entry.name
    choice = st.selectbox("Data", [*BUNDLED, UPLOAD], key="bias_data")
    ds = upload_dataset() if choice == UPLOAD else cache.load_dataset(choice)
    if ds is None:
        return None
    st.caption(ds.description)
    c1, c2 = st.columns(2)
    hidden = c1.select_slider("Hidden layers", ["16", "32,16", "64,32"], value="32,16",
                              key="bias_hidden")
    epochs = c2.slider("Epochs", 5, 60, 30, step=5, key="bias_epochs")
    trained = st.session_state.get("bias_trained", {})
    if st.button("Train the network", key="bias_train", type="primary"):
        with st.spinner("Training..."):
            config = TrainConfig(epochs=epochs, lr=0.01, batch_size=32, seed=0)
            sizes = [int(h) for h in hidden.split(",")]
            model, history, metrics = fairness.train_classifier(ds, config, hidden=sizes)
            entry = ws.register(f"MLP on {ds.name}", model, ds, {**config.to_dict(),
                                "hidden": sizes}, history, PAGE, "mlp", metrics)
        trained = {dataset_key(ds): entry.name}
        st.session_state["bias_trained"] = trained
    name = trained.get(dataset_key(ds))
    if name is None or name not in ws.workspace():
        st.info("Train a network on this data to audit it (a few seconds).")
        return None
    return ws.workspace().get(name).model, ds, name


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
    if result.passes_four_fifths:
        st.success(f"Four-fifths rule passed: the lowest selection rate is "
                   f"{result.demographic_parity_ratio:.1%} of the highest.")
    else:
        st.warning(f"Four-fifths rule failed: the lowest selection rate is only "
                   f"{result.demographic_parity_ratio:.1%} of the highest (below 80%).")
    st.dataframe(result.gaps(), key="bias_gaps")
    st.plotly_chart(fplots.gap_intervals_figure(result.gaps()), key="bias_gaps_fig")
    return result


def mitigation_section(model, ds: Dataset, name: str, columns: list[str], pos: int):
    """ThresholdOptimizer and reweighing against the original; returns the comparison table."""
    constraint = st.radio("ThresholdOptimizer constraint", list(fairness.CONSTRAINTS),
                          horizontal=True, key="bias_constraint",
                          format_func=lambda c: c.replace("_", " "))
    key = json.dumps([name, columns, pos, constraint])
    results = st.session_state.setdefault("bias_mitigations", {})
    if st.button("Run the mitigations", key="bias_mitigate"):
        g_train = fairness.combine_groups(ds.extra["sensitive_train"], columns)
        g_test = fairness.combine_groups(ds.extra["sensitive_test"], columns)
        config = TrainConfig.from_dict(ws.workspace().get(name).config) \
            if name in ws.workspace() else TrainConfig(epochs=30, lr=0.01, seed=0)
        with st.spinner("Fitting thresholds and retraining on reweighed data..."):
            result = fairness.run_mitigations(model, ds, g_train, g_test, constraint, config,
                                              pos_label=pos)
        ws.register(f"{name} (reweighed)", result.reweighed_model, ds, config.to_dict(),
                    result.reweighed_history, PAGE, "mlp",
                    {"accuracy": float(result.table.loc["reweighing", "accuracy"])})
        results[key] = result.table
    table = results.get(key)
    if table is None:
        st.info("Run the mitigations to compare them with the original model.")
        return None
    st.dataframe(table, key="bias_mitigation_table")
    st.plotly_chart(fplots.fairness_accuracy_figure(table), key="bias_tradeoff_fig")
    return table


def main() -> None:
    st.title("Bias audit")
    device_badge()
    st.markdown("A model can be accurate overall and still treat groups differently. Audit the "
                "**data** first (who is in it, how often each group has the good outcome), then "
                "the **model** group by group, then try to **fix** it and see what it costs.")
    picked = choose_model()
    if picked is None:
        return
    model, ds, name = picked
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
    st.header("3. Mitigation")
    st.markdown("**ThresholdOptimizer** (post-processing) picks a decision threshold per group; "
                "**reweighing** (pre-processing) retrains on data resampled so the outcome is "
                "independent of the group.")
    mitigated = mitigation_section(model, ds, name, columns, pos)
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
