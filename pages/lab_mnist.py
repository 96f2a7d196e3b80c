"""Lab 1: MNIST experiments. A grid of MLPs (hidden layers x neurons x activation) trained in the
background with progress and Stop, its table, heatmaps and what the numbers say; the best network
joins the session's models; draw a digit and watch it prepared as MNIST's digits were; the test
digits a model gets wrong.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from nnplay.data import mnist
from nnplay.lessons import lab_mnist as lab
from nnplay.plots import lab_mnist as plots
from nnplay.train.jobs import Job
from nnplay.ui import lab_mnist_view, state, widgets
from nnplay.ui import workspace as ws
from nnplay.ui.jobs import job_panel, job_running, progress_bar, settle_job, start_job, stop_job
from nnplay.ui.owner import owner_id

JOB, DOWNLOAD = "labm_job", "labm_download"
SETTINGS, RESULTS, ESTIMATES = "labm_settings", "labm_results", "labm_estimates"
DEFAULTS = {"layers": list(lab.DEFAULT_LAYERS), "neurons": list(lab.DEFAULT_NEURONS),
            "activations": list(lab.DEFAULT_ACTIVATIONS), "epochs": lab.DEFAULT_EPOCHS,
            "seed": 0, "source": "mnist5k", "train_rows": 10_000}
SOURCES = {"mnist5k": "mnist5k (bundled, 5,000 digits)", "mnist": "full MNIST (cached here)"}


@st.cache_resource(max_entries=2, show_spinner="Loading the digits...")
def load_digits(full: bool, train_rows: int, root: str) -> mnist.MnistChoice:
    """Shared read-only: full MNIST is large, so every session uses the same arrays."""
    return mnist.mnist_or_fallback(train_rows=train_rows, root=root, prefer_full=full)


def restore_settings() -> dict:
    return state.kept_settings(SETTINGS, "labm_", DEFAULTS)


def data_section(settings: dict) -> mnist.MnistChoice:
    cached = mnist.is_cached()
    if cached:
        c1, c2 = st.columns(2)
        source = c1.radio("Data", list(SOURCES), format_func=SOURCES.get, key="labm_source",
                          horizontal=True)
        if source == "mnist":
            c2.number_input("Training digits (of 60,000)", 1_000, mnist.FULL_TRAIN, step=1_000,
                            key="labm_train_rows", help="The whole set takes many minutes per "
                                                         "cell on a CPU; start with 10,000.")
    # not cached: trying costs a file check, and the note then says how to get it
    full = not cached or st.session_state.get("labm_source") == "mnist"
    rows = int(st.session_state.get("labm_train_rows", DEFAULTS["train_rows"]))
    settings.update(source="mnist" if cached and full else "mnist5k", train_rows=rows)
    choice = load_digits(full, rows if cached and full else mnist.FULL_TRAIN,
                         str(mnist.default_root()))
    (st.success if choice.full else st.info)(choice.note)
    if not cached:
        st.button("Try to download full MNIST", key="labm_download_go", on_click=start_job,
                  args=(DOWNLOAD, Job(lambda progress, should_stop: mnist.download_mnist(),
                                      label="download MNIST")))
        job_panel(DOWNLOAD, lambda job: load_digits.clear(), what="Download")
    return choice


def grid_settings(settings: dict) -> lab.GridSettings | None:
    c1, c2 = st.columns([1, 2])
    c3, c4, c5 = st.columns([2, 0.6, 0.4])
    picked = {"layers": c1.pills("Hidden layers", lab.LAYER_CHOICES, selection_mode="multi",
                                 key="labm_layers"),
              "neurons": c2.pills("Neurons per layer", lab.NEURON_CHOICES,
                                  selection_mode="multi", key="labm_neurons"),
              "activations": c3.pills("Activations", lab.ACTIVATION_CHOICES,
                                      selection_mode="multi", key="labm_activations"),
              "epochs": int(c4.number_input("Epochs (each)", 1, lab.MAX_EPOCHS,
                                            key="labm_epochs")),
              "seed": int(c5.number_input("Seed", 0, 10_000, key="labm_seed"))}
    settings.update(picked)
    try:
        return lab.GridSettings(tuple(sorted(picked["layers"])), tuple(sorted(picked["neurons"])),
                                tuple(picked["activations"]), picked["epochs"],
                                seed=picked["seed"])
    except ValueError as err:
        st.warning(str(err))
        return None


def describe_grid(grid: lab.GridSettings, ds) -> None:
    key = repr((grid, ds.name, ds.n_train))
    estimates = st.session_state.setdefault(ESTIMATES, {})
    if key not in estimates:
        estimates[key] = lab.estimate_seconds(grid, ds)
    val = round(grid.val_fraction * ds.n_train)
    config = grid.config()
    st.caption(f"{len(grid)} networks, each trained for {lab.plural(grid.epochs, 'epoch')} with "
               f"{config.optimizer.capitalize()} (learning rate {config.lr:g}, batches of "
               f"{config.batch_size}) on {ds.n_train - val:,} digits; {val:,} more are held out "
               f"to pick the best cell and {ds.n_test:,} test digits measure it. Timing a few "
               f"training steps here says this takes {lab.say_seconds(estimates[key])} (more "
               "when the machine is busy).")


def start_grid(grid: lab.GridSettings, ds, owner: str) -> None:
    experiment = lab.MnistGrid(grid, store_runs=True, owner=owner)
    start_job(JOB, Job(experiment.fit, ds, label="mnist grid"), grid=grid, data=ds.name)


def finish_grid(job: dict) -> None:
    """Once: keep the table (it survives other pages) and add the best network to the models."""
    worker, grid = job["worker"], job["grid"]
    experiment = worker.result
    st.session_state.pop(JOB, None)          # the trainers go; the results stay below
    if worker.status == "failed":
        st.session_state[RESULTS] = {"error": worker.error}
        return
    kept = {"table": experiment.results_ if experiment is not None else None,
            "status": worker.status, "cells": len(grid), "seconds": worker.seconds,
            "data": job["data"], "store_error": getattr(experiment, "store_error_", ""),
            "best": ""}
    st.session_state[RESULTS] = kept
    if experiment is None or experiment.best_ is None:
        return
    best = lab.best_cell(experiment.results_)
    entry = ws.register(experiment.best_, lesson=lab.LESSON, spec=experiment.best_spec_,
                        name=f"lab_mnist best: {lab.cell_name(*best[:3])}", record_run=False)
    if entry is not None:
        if lab.stored_run_id(best) is not None:   # the grid stored its run already
            entry.record = replace(entry.record, run_id=lab.stored_run_id(best))
        kept["best"] = entry.name
        st.session_state["labm_model_prefer"] = entry.name


def grid_progress() -> None:
    settle_job(JOB, finish_grid)
    job = st.session_state.get(JOB)
    if not job:
        return
    if "error" in job:          # e.g. a workshop server's limit on running jobs
        st.error(f"The grid could not start: {job['error']}")
        return
    worker, grid = job["worker"], job["grid"]

    @st.fragment(run_every=0.5)
    def poll() -> None:
        if worker.finished:
            st.rerun()
        cell = min(len(grid), worker.done_steps // grid.epochs + 1)
        progress_bar(worker, f"Cell {cell} of {len(grid)}", unit="epochs")
        st.button("Stop", key="labm_stop", on_click=stop_job, args=(JOB,))

    poll()


def results_section() -> None:
    kept = st.session_state.get(RESULTS)
    if not kept:
        return
    if "error" in kept:
        st.error(f"The grid failed: {kept['error']}")
        return
    table = kept["table"]
    done = 0 if table is None else len(table)
    if kept["status"] == "completed":
        st.markdown(f"All {done} cells trained on {kept['data']} in "
                    f"{lab.say_seconds(kept['seconds'])}.")
    elif done:
        st.warning(f"Stopped after {done} of {kept['cells']} cells "
                   f"({lab.say_seconds(kept['seconds'])}); "
                   "the table keeps the cells that finished.")
    else:
        st.warning("Stopped before the first cell finished: there is nothing to compare yet.")
        return
    if kept["store_error"]:
        st.warning(f"The runs were not stored: {kept['store_error']}")
    st.markdown("\n".join(f"- {sentence}" for sentence in lab.findings(table)))
    st.dataframe(lab.results_table(table), hide_index=True, key="labm_table")
    metric = st.radio("Heatmap", list(lab.METRICS), format_func=lab.METRICS.get,
                      horizontal=True, key="labm_metric")
    st.plotly_chart(plots.grid_heatmap_figure(table, metric), key="labm_heatmap")
    if kept["best"]:
        st.caption(f"The best cell joined your models as **{kept['best']}**: the Evaluation, "
                   "Explainability and Production pages can use it.")


def pick_model():
    return ws.model_picker("labm_model", kind="image", label="Model to try",
                           where=lambda m: lab.reads_digits(m.dataset),
                           none_yet="No model of this session reads handwritten digits yet: "
                                    "train the grid above (or a CNN on mnist5k on the CNNs "
                                    "page), and its best network appears here.")


def mistakes_section(entry) -> None:
    k = st.slider("Digits to show", 6, 36, 12, step=6, key="labm_k")
    ds = entry.dataset
    table = lab.misclassified(entry.model, ds, k)
    errors, total = table.attrs["errors"], table.attrs["n_test"]
    if table.empty:
        st.success(f"{entry.name} gets all {total:,} test digits right.")
        return
    st.markdown(f"{entry.name} gets **{errors:,} of {total:,}** test digits wrong "
                f"({errors / total:.1%}). The most confident mistakes first: true label → "
                "prediction (probability), then the runner-up.")
    st.plotly_chart(plots.misclassified_figure(ds.X_test[table["index"].to_numpy()], table),
                    key="labm_mistakes_fig")


st.title("Lab: MNIST experiments")
widgets.device_badge()
ws.show_notice()
st.markdown("Which network reads handwritten digits best? Train a grid of fully connected "
            "networks that differ in depth, width and activation, the same optimizer and "
            "epochs for all, and compare accuracy, size and time. Every cell is stored in the "
            "run store; the best one joins your models.")
kept_settings = restore_settings()
st.subheader("The data")
choice = data_section(kept_settings)
st.subheader("The experiment grid")
settings = grid_settings(kept_settings)
running = job_running(JOB)
if settings is not None:
    describe_grid(settings, choice.dataset)
    st.button("Train the grid", type="primary", key="labm_start", disabled=running,
              on_click=start_grid, args=(settings, choice.dataset, owner_id()))
grid_progress()
results_section()
st.subheader("Try a model on your own digit")
model = pick_model()
if model is not None:
    lab_mnist_view.drawing_section(model)
    st.subheader("Where it goes wrong")
    mistakes_section(model)
