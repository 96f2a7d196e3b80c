"""Lesson: judging a network honestly. The right metric for the task, a threshold that moves the
confusion matrix live, calibration, the accuracy paradox, and baselines on the same split.
"""

from __future__ import annotations

import streamlit as st

from nnplay.evaluation import baselines, metrics
from nnplay.lessons import evaluate as lesson
from nnplay.plots import evaluate as plots
from nnplay.train import predict, predict_proba
from nnplay.train.jobs import Job
from nnplay.train.quick import default_config
from nnplay.ui.jobs import worker_progress
from nnplay.ui.state import user_errors
from nnplay.ui.widgets import dataset_picker
from nnplay.ui.workspace import pick_or_train, workspace

BASELINE_JOB = "ev_baseline_job"
NORMALISE = {"counts": None, "share of each true class": "true", "share of each prediction": "pred"}


def spot_data():
    return dataset_picker("ev_spot", kinds=("toy", "real"), default=lesson.DEFAULT_DATASET,
                          allow_upload=True)


def show_metrics(values: dict, labels: dict) -> None:
    for col, (key, label) in zip(st.columns(len(labels)), labels.items(), strict=True):
        col.metric(label, f"{values[key]:.3f}")


def classification_section(model, ds) -> None:
    y, proba = ds.y_test, predict_proba(model, ds.X_test)
    names = ds.class_names or [str(c) for c in range(proba.shape[1])]
    st.subheader("Metrics on the test split")
    show_metrics(metrics.classification_metrics(y, proba),
                 {"accuracy": "Accuracy", "balanced_accuracy": "Balanced accuracy",
                  "f1_macro": "F1 (macro)", "roc_auc": "ROC AUC", "log_loss": "Log loss"})
    st.dataframe(metrics.per_class_report(y, proba, names).round(3), key="ev_report")
    view = st.radio("Confusion matrix", list(NORMALISE), horizontal=True, key="ev_cm_view")
    cm = metrics.confusion_frame(y, proba.argmax(1), names, NORMALISE[view])
    st.plotly_chart(plots.confusion_matrix_figure(cm, NORMALISE[view] is not None),
                    key="ev_cm_fig")

    st.subheader("Moving the threshold")
    positive = st.selectbox("Positive class (the rest is negative)", range(len(names)),
                            index=min(1, len(names) - 1), format_func=lambda i: names[i],
                            key="ev_positive")
    threshold = st.slider("Threshold on P(positive)", 0.0, 1.0, 0.5, step=0.01, key="ev_threshold")
    at = metrics.threshold_metrics(y, proba, threshold, positive)
    show_metrics(at, {"accuracy": "Accuracy", "precision": "Precision", "recall": "Recall",
                      "f1": "F1"})
    st.latex(rf"\text{{precision}} = \frac{{TP}}{{TP + FP}} = \frac{{{at['tp']}}}"
             rf"{{{at['tp']} + {at['fp']}}} = {at['precision']:.3f} \qquad "
             rf"\text{{recall}} = \frac{{TP}}{{TP + FN}} = \frac{{{at['tp']}}}"
             rf"{{{at['tp']} + {at['fn']}}} = {at['recall']:.3f}")
    binary = metrics.binary_predictions(proba, threshold, positive)
    truth = (y == positive).astype(int)
    two = metrics.confusion_frame(truth, binary, [f"not {names[positive]}", names[positive]])
    curves = metrics.curve_summary(y, proba, positive)
    left, mid, right = st.columns(3)
    left.plotly_chart(plots.confusion_matrix_figure(two, title=f"At threshold {threshold:.2f}"),
                      key="ev_cm_threshold_fig")
    mid.plotly_chart(plots.roc_figure(metrics.roc_frame(y, proba, positive), curves["roc_auc"],
                                      (at["fpr"], at["recall"]), names[positive]), key="ev_roc_fig")
    right.plotly_chart(plots.pr_figure(metrics.pr_frame(y, proba, positive),
                                       curves["average_precision"], curves["base_rate"],
                                       (at["recall"], at["precision"]), names[positive]),
                       key="ev_pr_fig")

    st.subheader("Calibration: does 0.8 mean 80%?")
    bins = st.slider("Bins", 3, 20, 5 if len(y) < 500 else 10, key="ev_calibration_bins",
                     help="Fewer bins for small test sets: each bin needs rows to be trusted.")
    calibration = metrics.calibration_frame(y, proba, n_bins=bins,
                                            positive=1 if len(names) == 2 else None)
    what = (f"P({names[1]})" if len(names) == 2 else "the confidence in the predicted class")
    st.plotly_chart(plots.calibration_figure(calibration, f"Calibration of {what}"),
                    key="ev_calibration_fig")
    paradox_section(y, proba, names, positive, threshold)


def paradox_section(y, proba, names, positive: int, threshold: float) -> None:
    st.subheader("The accuracy paradox")
    share = st.slider("Share of the positive class after resampling", 0.01, 0.2, 0.05, step=0.01,
                      key="ev_minority_share")
    with user_errors("This resampling"):
        table = metrics.accuracy_paradox(y, proba, positive, share, threshold)
        st.caption(f"The test rows resampled to {table.attrs['n_rows']} rows with "
                   f"{table.attrs['n_positive']} '{names[positive]}' "
                   f"({table.attrs['positive_share']:.1%}).")
        st.plotly_chart(plots.paradox_figure(table), key="ev_paradox_fig")
        lazy = table.iloc[0]
        st.markdown(f"A model that never says '{names[positive]}' scores accuracy "
                    f"**{lazy['accuracy']:.3f}** and recall **{lazy['recall']:.3f}**: accuracy "
                    f"flatters it, recall and F1 tell the truth. The network's F1 here is "
                    f"**{table.iloc[1]['f1']:.3f}**.")


def regression_section(model, ds) -> None:
    pred = predict(model, ds.X_test, "regression")
    st.subheader("Metrics on the test split")
    with user_errors("This model"):
        show_metrics(metrics.regression_metrics(ds.y_test, pred),
                     {"mae": "MAE", "mse": "MSE", "rmse": "RMSE", "r2": "R²"})
        frame = metrics.residuals_frame(ds.y_test, pred)
        left, right = st.columns(2)
        left.plotly_chart(plots.predicted_actual_figure(frame), key="ev_pred_actual_fig")
        right.plotly_chart(plots.residuals_figure(frame), key="ev_residuals_fig")


def start_baselines(entry, models: list[str], k: int, epochs: int) -> None:
    comparison = baselines.BaselineComparison(k=k, models=tuple(models), network_epochs=epochs)
    config = entry.train_config or default_config(epochs)
    st.session_state[BASELINE_JOB] = Job(
        comparison.fit, entry.dataset, entry.model, config, label=entry.name).start()


def baselines_section(entry) -> None:
    st.subheader("Baselines on the same split")
    ds = entry.dataset
    c1, c2, c3 = st.columns(3)
    chosen = c1.multiselect("Baselines", baselines.BASELINES, default=list(baselines.DEFAULT_BASELINES),
                            format_func=baselines.BASELINE_TITLES.get, key="ev_baselines")
    k = c2.slider("Folds (k)", 2, 10, 5, key="ev_folds")
    default_epochs = entry.train_config.epochs if entry.train_config else lesson.EPOCHS
    epochs = c3.number_input("Network epochs per fold", 1, 1000, min(default_epochs, 200),
                             key="ev_net_epochs")
    if st.button("Run the baselines", key="ev_run_baselines"):
        with user_errors("This model's training settings"):
            start_baselines(entry, chosen, k, int(epochs))
    worker_progress(BASELINE_JOB, "fits")
    job = st.session_state.get(BASELINE_JOB)
    if job is None or not job.finished or job.label != entry.name:
        return
    if job.status == "stopped":
        st.warning(f"Stopped after {job.done_steps} of {job.total_steps} fits.")
    elif job.status == "failed":
        st.error(f"The baselines could not run: {job.error}")
    else:
        summary = job.result.summary_
        st.dataframe(summary.round(4), key="ev_baseline_table")
        metric = baselines.SCORES[ds.task][0]
        st.plotly_chart(plots.baselines_figure(summary, metric), key="ev_baselines_fig")
        best = summary[f"{metric}_mean"].idxmin() if metric == "rmse" else \
            summary[f"{metric}_mean"].idxmax()
        st.markdown(f"Best {k}-fold {metric}: **{best}** "
                    f"({summary.loc[best, f'{metric}_mean']:.3f} ± "
                    f"{summary.loc[best, f'{metric}_std']:.3f}); the run took {job.seconds:.1f} s.")
        verdict(summary, ds.task)


def verdict(summary, task: str) -> None:
    """Say plainly whether the network earns its place against the baselines."""
    score = "accuracy" if task == "classification" else "r2"
    names = {"dummy": baselines.BASELINE_TITLES["dummy"],
             "network": baselines.BASELINE_TITLES["network"]}
    if not set(names.values()) <= set(summary.index) or f"{score}_mean" not in summary:
        return
    means = summary[f"{score}_mean"]
    others = means.drop([names["network"], names["dummy"]])
    best_name = others.idxmax() if len(others) else names["dummy"]
    level, sentence = lesson.baseline_verdict(
        float(means[names["network"]]), float(means[names["dummy"]]),
        float(others.max()) if len(others) else float(means[names["dummy"]]), best_name, score)
    getattr(st, level)(sentence)


def compare_section(entry) -> None:
    """Another model of the session tested on the very same rows, side by side."""
    others = lesson.comparable_models(entry, workspace().list())
    st.subheader("Side by side with another model")
    if not others:
        st.info("Train another model on the same data (any page, or Train one on the spot with "
                "other settings) to compare the two on the same test rows here.")
        return
    labels = {m.name: m.label() for m in others}
    other = workspace().get(st.selectbox("Compare with", list(labels), format_func=labels.get,
                                         key="ev_compare"))
    table, differ = lesson.side_by_side([entry, other], entry.dataset)
    st.dataframe(table.style.format("{:.4f}"), key="ev_compare_table")
    st.caption(f"The two disagree on {len(differ)} of {entry.dataset.n_test} test rows"
               + (":" if len(differ) else "."))
    if len(differ):
        st.dataframe(differ.head(20), key="ev_compare_rows")


st.title("Evaluation")
st.markdown("A number means little without the right metric and something to compare it with. "
            "Everything below is computed with `sklearn.metrics` on the model's test split.")
entry = pick_or_train("ev", "evaluate", spot_data, spec_for=lesson.spec_for,
                      epochs=lesson.EPOCHS, what="a network")
if entry is None:
    st.stop()
st.caption(f"Evaluating **{entry.label()}**.")
if entry.task == "classification":
    classification_section(entry.model, entry.dataset)
else:
    regression_section(entry.model, entry.dataset)
baselines_section(entry)
compare_section(entry)
