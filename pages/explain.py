"""Lesson: opening the black box. For a table row: edit it in original units and watch the
prediction, SHAP and LIME follow, find the nearest counterfactual, sweep a feature (partial
dependence), then SHAP over the test set. For an image: captum saliency, integrated gradients,
occlusion, Grad-CAM and LIME segments. Each explanation shows its cost and a check in numbers.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from nnplay import explain
from nnplay.lessons import explain as lesson
from nnplay.plots import explain as plots
from nnplay.train import predict_proba
from nnplay.ui import whatif
from nnplay.ui.jobs import worker_progress
from nnplay.ui.state import user_errors
from nnplay.ui.widgets import dataset_picker
from nnplay.ui.workspace import pick_or_train

ROW_CACHE = "ex_row_cache"
IMAGE_CACHE = "ex_image_cache"
SET_JOB = "ex_shap_set_job"
PERTURB_JOB = "ex_perturb_job"


def spot_data():
    """The data to train on, and for images which network (a CNN first)."""
    ds = dataset_picker("ex_spot", kinds=("toy", "real"), default=lesson.DEFAULT_DATASET)
    if ds is not None:
        st.radio("Network", lesson.families_for(ds), horizontal=True, format_func=str.upper,
                 key=f"ex_spot_family_{len(ds.input_shape)}")
    return ds


def spot_spec(ds):
    return lesson.spec_for(ds, st.session_state.get(f"ex_spot_family_{len(ds.input_shape)}"))


def cached(store: str, key: tuple, compute):
    """compute() once per key; only the latest key is kept (explanations of one model at a time)."""
    memo = st.session_state.setdefault(store, {})
    if key not in memo:
        value = compute()
        memo.clear()
        memo[key] = value
    return memo[key]


def finished_job(key: str, owner: str):
    """The job's result when it finished for this model; says so when stopped or failed."""
    job = st.session_state.get(key)
    if job is None or not job.finished or job.label != owner:
        return None
    if job.status == "stopped":
        st.warning("Stopped: press the button again to restart.")
    elif job.status == "failed":
        st.error(f"That explanation could not run: {job.error}")
    return job.result if job.status == "completed" else None


def tabular_section(entry) -> None:
    ds, model = entry.dataset, entry.model
    units = explain.original_units(ds)
    c1, c2, c3 = st.columns(3)
    row = c1.slider("Test row", 0, ds.n_test - 1, 0, key="ex_row")
    n_bg = c2.select_slider("Background rows", [25, 50, 100, 200], 100, key="ex_background")
    nsamples = c3.select_slider("Coalitions sampled", [128, 256, 512, 1024, 2048, "auto"], 1024,
                                key="ex_nsamples")
    st.subheader("What if this row were different?")
    with st.expander(f"Test row {row} in original units: edit any feature", expanded=True):
        edits = whatif.row_editor(units, ds.X_test[row], (entry.name, id(model), row))
    x = units.encode_row(edits, base=ds.X_test[row]) if edits else ds.X_test[row]
    whatif.prediction_panel(ds, explain.outputs(model, ds, ds.X_test[row])[0],
                            explain.outputs(model, ds, x)[0], edits)
    why = cached(ROW_CACHE, (entry.name, row, x.tobytes(), n_bg, nsamples),
                 lambda: lesson.explain_row(model, ds, x, n_bg, nsamples))
    shap_exp, lime, info = why.shap, why.lime, why.shap.nnplay
    st.markdown(f"Explaining **{why.output_label}** for test row {row}"
                f"{' as edited' if edits else ''}.")
    left, right = st.columns(2)
    left.plotly_chart(plots.shap_waterfall_figure(shap_exp.values[0], shap_exp.base_values[0],
                                                  shap_exp.data[0], units.names,
                                                  output_label=why.output_label,
                                                  labels=why.labels), key="ex_waterfall_fig")
    right.plotly_chart(plots.lime_weights_figure(lime.weights), key="ex_lime_fig")
    check = explain.efficiency_frame(shap_exp).iloc[0]
    left, right = st.columns(2)
    left.latex(rf"E[f(X)] + \sum_i \phi_i = {check['base_value']:.4f} "
               rf"{check['sum_of_shap_values']:+.4f} = {check['base_plus_sum']:.4f}")
    left.caption(f"Model output f(x) = {check['model_output']:.4f}; gap {check['gap']:.1e}. "
                 f"Cost: {info['seconds']:.3f} s, {info['nsamples']} coalitions x "
                 f"{info['background_rows']} background rows.")
    right.latex(rf"g(x) = {lime.local_prediction:.4f} \quad f(x) = {lime.model_prediction:.4f}"
                rf"\quad R^2 = {lime.score:.3f}")
    right.caption(f"LIME's local linear model g against the model f. Cost: {lime.seconds:.3f} s, "
                  f"{lime.num_samples} perturbed samples.")
    st.info(why.agreement)
    whatif.counterfactual_panel(model, ds, units, x)
    whatif.partial_dependence_panel(model, ds, units, x, int(np.abs(shap_exp.values[0]).argmax()),
                                    why.target)
    test_set_section(entry)


def test_set_section(entry) -> None:
    ds = entry.dataset
    st.subheader("SHAP over the test set")
    c1, c2 = st.columns(2)
    n_rows = c1.slider("Rows to explain", 1, ds.n_test, min(40, ds.n_test), key="ex_set_rows")
    nsamples = c2.select_slider("Coalitions per row", [64, 128, 256, 512, "auto"], 128,
                                key="ex_set_nsamples")
    if st.button("Explain these rows", key="ex_set_run"):
        model, background, rows, input_map = lesson.shap_set_args(
            entry.model, ds, n_rows, st.session_state.get("ex_background", 100))
        st.session_state[SET_JOB] = explain.Job(
            explain.shap_values, model, background, rows, task=ds.task, nsamples=nsamples,
            feature_names=explain.original_units(ds).names, input_map=input_map,
            label=entry.name).start()
    worker_progress(SET_JOB, "rows")
    result = finished_job(SET_JOB, entry.name)
    if result is None:
        return
    left, right = st.columns(2)
    left.plotly_chart(plots.shap_beeswarm_figure(result.values, result.data, result.feature_names,
                                                 data_text=lesson.raw_texts(ds, result.data)),
                      key="ex_beeswarm_fig")
    right.plotly_chart(plots.shap_bar_figure(result.values, result.feature_names),
                       key="ex_bar_fig")
    gaps = explain.efficiency_frame(result)["gap"]
    st.caption(f"{len(gaps)} rows in {result.nnplay['seconds']:.1f} s; largest gap between "
               f"base value + sum of SHAP values and the model's output: {gaps.max():.1e}.")


def image_section(entry) -> None:
    ds, model = entry.dataset, entry.model
    names = ds.class_names or [str(c) for c in range(ds.n_outputs)]
    c1, c2, c3 = st.columns(3)
    index = c1.slider("Test image", 0, ds.n_test - 1, 0, key="ex_image")
    image = ds.X_test[index]
    proba = predict_proba(model, image[None])[0]
    predicted = int(proba.argmax())
    choice = c2.selectbox("Explain the class", ["predicted", *names], key="ex_image_target")
    target = predicted if choice == "predicted" else names.index(choice)
    steps = c3.slider("Integrated-gradient steps", 10, 200, 50, step=10, key="ex_ig_steps")
    st.markdown(f"True class **{names[int(ds.y_test[index])]}**, predicted **{names[predicted]}** "
                f"(p = {proba[predicted]:.3f}); explaining **{names[target]}**.")
    fast = explain.gradient_methods(model)
    if "gradcam" not in fast:
        st.caption("Grad-CAM needs a convolutional layer; this model has none.")
    results = dict(cached(IMAGE_CACHE, (entry.name, index, target, steps), lambda: (
        explain.explain_image(model, image, target, fast, n_steps=steps))))
    if st.button("Run occlusion and LIME (perturbation methods)", key="ex_perturb_run"):
        st.session_state[PERTURB_JOB] = explain.Job(
            explain.explain_image, model, image, target, ("occlusion", "lime"),
            label=f"{entry.name}|{index}|{target}").start()
    worker_progress(PERTURB_JOB)
    results.update(finished_job(PERTURB_JOB, f"{entry.name}|{index}|{target}") or {})
    maps = {explain.METHOD_TITLES[m]: r["map"] for m, r in results.items()}
    signed = {explain.METHOD_TITLES[m]: explain.SIGNED[m] for m in results}
    st.plotly_chart(plots.attribution_maps_figure(image, maps, signed), key="ex_maps_fig")
    st.dataframe(explain.cost_frame(results).round(4), hide_index=True, key="ex_cost_table")
    c = results["integrated_gradients"]["completeness"]
    st.latex(rf"\sum_i \mathrm{{IG}}_i = {c['sum_of_attributions']:.4f} \approx "
             rf"F(x) - F(0) = {c['output_difference']:.4f}"
             rf"\quad (\text{{gap }} {100 * c['relative_gap']:.2f}\%)")


st.title("Explainability")
st.markdown("Which inputs drove this prediction? SHAP and LIME treat the network as a black box; "
            "gradient methods (via captum) look inside. Each shows what it cost and a check "
            "you can verify in numbers.")
entry = pick_or_train("ex", "explain", spot_data, spec_for=spot_spec, epochs=lesson.epochs_for,
                      what="a network")
if entry is None:
    st.stop()
st.caption(f"Explaining **{entry.label()}**.")
with user_errors("This explanation"):
    if entry.input_kind == "tabular":
        tabular_section(entry)
    elif entry.input_kind == "image":
        image_section(entry)
    else:
        st.info("Sequence models are not covered here yet: pick a tabular or image model.")
