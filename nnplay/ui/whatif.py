"""The What-If widgets of the Explainability page for one table row: edit its features in original
units, see the prediction move, find the nearest counterfactual, sweep one feature (partial
dependence). Widgets only: the numbers come from ``nnplay.explain`` and the words from
``nnplay.lessons.explain``.
"""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from nnplay import explain
from nnplay.lessons import explain as lesson
from nnplay.plots import explain as plots
from nnplay.ui.state import clear_prefix

EDIT = "ex_edit"          # widget keys: ex_edit_<feature index>, for one model and row at a time
EDIT_OWNER = "ex_editor_owner"
RUNNER_UP = "the runner-up (second most likely)"
COLUMNS = 4


def edit_key(j: int) -> str:
    return f"{EDIT}_{j}"


def _widget_value(feature: explain.Feature, units: explain.OriginalUnits, raw: float):
    """What a widget holds for a raw value: a category label, an int, or a float."""
    if feature.kind == "category":
        return units.text(feature, raw)
    return int(round(raw)) if feature.integer else float(raw)


def _set_row(units: explain.OriginalUnits, raw: np.ndarray) -> None:
    for j, (f, v) in enumerate(zip(units.features, raw, strict=True)):
        st.session_state[edit_key(j)] = _widget_value(f, units, v)


def _step(feature: explain.Feature) -> float:
    """A tenth of a typical change, rounded to a power of ten."""
    return 10.0 ** (math.floor(math.log10(feature.scale)) - 1)


def row_editor(units: explain.OriginalUnits, x0: np.ndarray, owner: tuple) -> dict:
    """One widget per feature, pre-filled with the row ``x0`` in original units; returns the
    edits ({feature: value}) that differ from it. ``owner`` (model name, model id, row) names
    the row: when it changes the widgets start again from the new row, and for a new model the
    counterfactual and partial-dependence choices too (its features and classes differ)."""
    raw0 = units.to_raw(x0)[0]
    previous = st.session_state.get(EDIT_OWNER)
    if previous != owner:
        clear_prefix(f"{EDIT}_")
        if previous is None or previous[:-1] != owner[:-1]:
            clear_prefix("ex_cf_")
            clear_prefix("ex_pd_")
        st.session_state[EDIT_OWNER] = owner
    for j, (f, v) in enumerate(zip(units.features, raw0, strict=True)):
        st.session_state.setdefault(edit_key(j), _widget_value(f, units, v))
    cols = st.columns(COLUMNS)
    edits = {}
    for j, f in enumerate(units.features):
        key, col, original = edit_key(j), cols[j % COLUMNS], _widget_value(f, units, raw0[j])
        if f.kind == "category":
            value = col.selectbox(f.name, f.categories, key=key)
        elif f.integer:
            value = col.number_input(f.name, step=1, key=key, help=_range_help(f))
        else:
            # %g: every value with its own digits (13.68, 575.5, 0.07255), no padding zeros
            value = col.number_input(f.name, step=_step(f), format="%.6g", key=key,
                                     help=_range_help(f))
        if value != original and not (f.kind == "numeric" and np.isclose(value, original)):
            edits[f.name] = value
    c1, c2 = st.columns([1, 4])
    c1.button("Reset the row", key="ex_editor_reset", on_click=_set_row, args=(units, raw0),
              disabled=not edits)
    if edits:
        c2.caption("Edited: " + ", ".join(f"{n} = {explain.format_number(v) if isinstance(v, float) else v}"
                                          for n, v in edits.items()) + ".")
    return edits


def _range_help(f: explain.Feature) -> str:
    return (f"Training range {explain.format_number(f.low, f.integer)} to "
            f"{explain.format_number(f.high, f.integer)}.")


def prediction_panel(dataset, before: np.ndarray, after: np.ndarray, edits: dict) -> None:
    """The edited row's prediction as metrics, with the change from the original row."""
    st.markdown(lesson.predicted_sentence(dataset, after))
    shown = lesson.prediction_metrics(dataset, before, after)
    for col, item in zip(st.columns(len(shown)), shown, strict=True):
        col.metric(item.label, item.value, item.delta, delta_color="off")
    outside = lesson.out_of_range(dataset, edits)
    if outside:
        st.warning("Outside the training data, where the model extrapolates: "
                   + "; ".join(outside) + ".")


def counterfactual_panel(model, dataset, units: explain.OriginalUnits, x: np.ndarray) -> None:
    """The nearest counterfactual of the (edited) row, and a button to load it into the editor."""
    st.subheader("The nearest counterfactual")
    if dataset.task != "classification":
        st.caption("A counterfactual flips a predicted class; for this regression, edit the "
                   "features above and watch the predicted value instead.")
        return
    names = dataset.class_names or [str(c) for c in range(dataset.n_outputs)]
    c1, c2 = st.columns([1, 2])
    choice = c1.selectbox("Flip the prediction to", [RUNNER_UP, *names], key="ex_cf_target")
    frozen = c2.multiselect("Keep these features as they are", units.names, key="ex_cf_frozen",
                            placeholder="e.g. features a person cannot change")
    proba = explain.outputs(model, dataset, x)[0]
    target = None if choice == RUNNER_UP else names.index(choice)
    if target == int(proba.argmax()):
        st.info(f"The model already predicts {choice} for this row: pick another class.")
        return
    cf = explain.counterfactual(model, dataset, x, target=target, frozen=frozen)
    if cf.found:
        st.success(lesson.counterfactual_sentence(dataset, cf))
        st.dataframe(cf.changes, hide_index=True, key="ex_cf_table")
        st.button("Load it into the editor", key="ex_cf_apply", on_click=_set_row,
                  args=(units, units.to_raw(cf.row)[0]))
    else:
        st.warning(lesson.counterfactual_sentence(dataset, cf))
    st.caption("Greedy search: try every one-feature move across the training range, keep the "
               "one that gains most per unit of distance (L1 in training standard deviations, a "
               "category switch counts 1), then walk each change back as far as the flip "
               "allows. It finds a small change, not provably the smallest.")


def partial_dependence_panel(model, dataset, units: explain.OriginalUnits, x: np.ndarray,
                             default_feature: int, target: int) -> None:
    """Partial dependence of one feature, with the (edited) row's own curve on top."""
    st.subheader("Partial dependence: sweep one feature")
    c1, c2 = st.columns(2)
    feature = c1.selectbox("Feature", units.names, index=default_feature, key="ex_pd_feature")
    if dataset.task == "classification":
        names = dataset.class_names or [str(c) for c in range(dataset.n_outputs)]
        target = names.index(c2.selectbox("Probability of", names, index=max(target, 0),
                                          key="ex_pd_class"))
    frame = explain.partial_dependence(model, dataset, feature,
                                       target=target if target >= 0 else None, row=x)
    label = lesson.output_label(dataset, target)
    j = units.names.index(feature)
    st.plotly_chart(plots.partial_dependence_figure(frame, feature, label,
                                                    row_value=units.to_raw(x)[0, j]),
                    key="ex_pd_fig")
    st.caption(f"Black: {label} averaged over {frame.attrs['rows']} training rows with {feature} "
               f"set to each value (partial dependence). Red: this row alone (ICE); the diamond "
               f"is where it stands now.")
