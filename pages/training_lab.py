"""Lesson: the Training lab. Optimizers, learning-rate schedules, regularisation and early stopping
on real datasets, trained live in a background thread; every run is stored in the run store and
its model registered in the session workspace. The overfitting preset shows the train/validation
gap and lets the learner switch on the techniques that close it.
"""

from __future__ import annotations

import streamlit as st

from nnplay.lessons import training_lab as labpresets
from nnplay.models import modelio
from nnplay.plots import training as plots
from nnplay.plots import training_lab as lab_plots
from nnplay.train import OPTIMIZERS, SCHEDULES, TrainConfig, lr_schedule_preview, runs
from nnplay.train.jobs import Job
from nnplay.ui import cache, widgets
from nnplay.ui import workspace as ws
from nnplay.ui.jobs import job_running, progress_bar, settle_job, start_job, stop_job
from nnplay.ui.models_panel import file_name

JOB, COMPARE = "lab_job", "lab_compare"
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)
PENALTIES = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 0.1)
SCHEDULE_SETTINGS = {"step": ("step_size", "gamma"), "exponential": ("gamma",),
                     "cosine": ("min_lr",), "cosine_restarts": ("step_size", "min_lr"),
                     "cyclic": ("step_size", "min_lr"), "warmup_cosine": ("warmup_epochs", "min_lr"),
                     "plateau": ("step_size", "gamma")}


def preset_panel() -> labpresets.LabSetup:
    """The overfitting preset with a checkbox per technique."""
    base = labpresets.OVERFITTING
    st.markdown(f"**{base.train_rows} training points of {base.dataset} with noise "
                f"{base.dataset_params['noise']:g}, a {base.model_spec['params']['hidden']} "
                f"network, {base.config.epochs} epochs of {base.config.optimizer.capitalize()} at "
                f"lr {base.config.lr:g}.** {base.config.val_fraction:.0%} of the points are held "
                "out as a validation set for early stopping; the gap is measured on a separate "
                "test set. Train it bare first, then switch techniques on and train again: the "
                "curves of every run stay below for comparison.")
    chosen = [name for name, tech in labpresets.TECHNIQUES.items()
              if st.checkbox(tech.title, key=f"lab_tech_{name}", help=tech.explains)]
    return labpresets.overfitting_setup(chosen)


def config_widgets(dataset_rows: int) -> TrainConfig:
    """Optimizer, schedule and regularisation settings as a validated TrainConfig."""
    c1, c2, c3, c4 = st.columns(4)
    kw = {"optimizer": c1.selectbox("Optimizer", OPTIMIZERS, index=4, key="lab_optimizer"),
          "lr": c2.select_slider("Learning rate", LEARNING_RATES, value=1e-3, key="lab_lr"),
          "batch_size": c3.selectbox("Batch size (0 = full batch)", (0, 16, 32, 64, 128, 256),
                                     index=3, key="lab_batch"),
          "epochs": int(c4.number_input("Epochs", 1, 2000, 50, key="lab_epochs"))}
    if kw["optimizer"] in ("momentum", "nesterov"):
        kw["momentum"] = st.slider("Momentum", 0.0, 0.99, 0.9, key="lab_momentum")
    c1, c2, c3, c4 = st.columns(4)
    kw["schedule"] = c1.selectbox("Learning-rate schedule", SCHEDULES, key="lab_schedule")
    wanted = SCHEDULE_SETTINGS.get(kw["schedule"], ())
    if "step_size" in wanted:
        kw["step_size"] = int(c2.number_input("Step size / period (epochs)", 1, 1000, 10,
                                              key="lab_step_size"))
    if "gamma" in wanted:
        kw["gamma"] = c3.slider("Decay factor γ", 0.05, 0.99, 0.5, key="lab_gamma")
    if "warmup_epochs" in wanted:
        kw["warmup_epochs"] = int(c3.number_input("Warm-up epochs", 0, 500, 5, key="lab_warmup"))
    if "min_lr" in wanted:
        kw["min_lr"] = c4.select_slider("Lowest rate", (0.0, 1e-5, 1e-4, 1e-3), key="lab_min_lr")
    c1, c2, c3 = st.columns(3)
    kw["l1"] = c1.select_slider("L1 penalty", PENALTIES, value=0.0, key="lab_l1")
    kw["l2"] = c2.select_slider("L2 (weight decay)", PENALTIES, value=0.0, key="lab_l2")
    kw["seed"] = int(c3.number_input("Seed", 0, 10_000, 0, key="lab_seed"))
    if st.toggle("Early stopping", key="lab_es"):
        c1, c2, c3 = st.columns(3)
        kw["early_stopping"] = int(c1.number_input("Patience (epochs)", 1, 500, 10,
                                                   key="lab_patience"))
        kw["min_delta"] = c2.select_slider("Min improvement", (0.0, 1e-4, 1e-3, 1e-2),
                                           key="lab_min_delta")
        kw["restore_best"] = c3.checkbox("Restore best weights", True, key="lab_restore")
    return TrainConfig(**kw)


def custom_panel():
    """(setup, dataset, start model or None) from the learner's choices; None when not ready."""
    start = st.radio("Start from", ["fresh weights", "a model from this session"],
                     horizontal=True, key="lab_start")
    if start == "fresh weights":
        ds = widgets.dataset_picker("lab", kinds=("real", "toy"), default="breast_cancer")
        if ds is None:
            return None
        c1, c2, c3, c4 = st.columns(4)
        family = c1.selectbox("Model", labpresets.families_for(ds), key="lab_family")
        hidden = labpresets.parse_hidden(c2.text_input("Hidden layers", "64,64", key="lab_hidden"))
        activation = c3.selectbox("Activation", ("relu", "tanh", "gelu", "leaky_relu", "sigmoid"),
                                  key="lab_activation")
        dropout = c4.slider("Dropout", 0.0, 0.8, 0.0, step=0.05, key="lab_dropout")
        spec = {"family": family, "params": {"hidden": hidden, "activation": activation,
                                             "dropout": dropout}}
        model = None
    else:
        picked = ws.model_picker("lab_continue")
        if picked is None:
            return None
        ds, model, spec = picked.dataset, picked.model, picked.spec.to_dict()
    # one setting per dataset: it starts at all of that dataset's training rows
    rows = int(st.number_input(f"Training rows to keep (of {ds.n_train})", 2, ds.n_train,
                               ds.n_train, key=f"lab_rows_{ds.name}_{ds.n_train}",
                               help="Fewer rows make overfitting easy to see."))
    setup = labpresets.LabSetup(ds.name, rows if rows < ds.n_train else None, spec,
                                config_widgets(rows), dict(ds.params))
    return setup, ds, model


def start_training(setup, dataset, start_model) -> None:
    """Button callback: build the model and data, then train in a background thread."""
    stop_job(JOB)
    try:
        trainer = labpresets.lab_trainer(setup, dataset, start_model)
    except ValueError as err:
        st.session_state[JOB] = {"error": str(err)}
        return
    start_job(JOB, Job.for_trainer(trainer), setup=setup, recorded=False)


def finish(job: dict) -> None:
    """Once: measure the gap, register the model in the workspace (which stores the run)."""
    trainer, setup = job["worker"].trainer, job["setup"]
    job["gap"] = labpresets.generalisation_gap(trainer.model, trainer.dataset)
    entry = ws.register(trainer, lesson="training_lab", spec=setup.model_spec,
                        name=setup.label or f"lab {trainer.spec.family} on {trainer.dataset.name}")
    job["name"] = entry.name if entry is not None else ""
    job["run_id"] = entry.record.run_id if entry is not None else None
    if entry is not None:
        st.session_state.setdefault(COMPARE, {})[entry.name] = trainer.history_copy()
    job["recorded"] = True


def show_result(job: dict) -> None:
    trainer, gap = job["worker"].trainer, job["gap"]
    st.success(f"**{job['name']}**: {trainer.status.replace('_', ' ')} after {trainer.epoch} "
               f"epochs ({trainer.train_seconds:.1f} s of training)."
               + (f" {trainer.stop_reason}." if trainer.stop_reason else ""))
    key = "accuracy" if "train_accuracy" in gap else "r2"
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(f"Train {key}", f"{gap[f'train_{key}']:.3f}")
    c2.metric(f"Test {key}", f"{gap[f'test_{key}']:.3f}")
    c3.metric(f"Gap ({key})", f"{gap[f'{key}_gap']:.3f}")
    c4.metric("Gap (loss)", f"{gap['loss_gap']:.3f}")
    if job.get("run_id") is not None:
        st.caption(f"Stored as run {job['run_id']} (see the Runs page) and added to this "
                   "session's models.")
    else:
        st.warning(st.session_state.get(ws.STORE_ERROR, "The run was not stored."))


def live_panel() -> None:
    """Polled while training runs: progress, time left and the live curves."""
    job = st.session_state.get(JOB)
    if not job or "worker" not in job:
        return
    worker = job["worker"]
    trainer, was_running = worker.trainer, not job["recorded"]
    history = trainer.curve_history()   # from epoch 0: the untrained network's loss
    settle_job(JOB, finish)  # once, when it has ended
    progress_bar(worker)
    es = next((c for c in trainer.callbacks if hasattr(c, "best_epoch_")), None)
    st.plotly_chart(plots.training_curves_figure(history, trainer.task, trainer.config.epochs,
                                                 getattr(es, "best_epoch_", None)),
                    key="lab_curves")
    if job["recorded"] and was_running:
        st.rerun()  # one full rerun: stop polling and show the result and downloads


def downloads(job: dict) -> None:
    """One zip (weights + record JSON) named after the model, loadable under Your models."""
    if job.get("name") not in ws.workspace():
        return
    entry = ws.workspace().get(job["name"])
    st.download_button("Download this model (zip)", key="lab_dl_model", on_click="ignore",
                       file_name=file_name(entry.name), mime="application/zip",
                       data=lambda: modelio.export_bundle(entry.model, entry.record,
                                                          entry.dataset))


st.title("Training lab")
widgets.device_badge()
st.markdown("Pick data and a network, choose how to train it, and watch it learn. Training runs "
            "in the background, so the page stays usable; **Stop** keeps what was learned.")
try:
    runs.RunStore()
except runs.RunStoreError as err:
    st.warning(f"Runs will train but not be stored: {err}")

preset = st.toggle("Overfitting preset", key="lab_preset")
try:
    if preset:
        preset_setup = preset_panel()
        chosen = (preset_setup, cache.load_dataset(preset_setup.dataset,
                                                   **preset_setup.dataset_params), None)
    else:
        chosen = custom_panel()
except ValueError as err:
    st.error(f"That setting cannot be used: {err}")
    chosen = None
if chosen is None:
    st.stop()
setup = chosen[0]
st.plotly_chart(lab_plots.lr_preview_figure(lr_schedule_preview(setup.config), setup.config.schedule),
                key="lab_lr_preview")
job = st.session_state.get(JOB) or {}
running = job_running(JOB)
c1, c2 = st.columns(2)
c1.button("Train", type="primary", key="lab_train", on_click=start_training, args=chosen,
          disabled=running)
c2.button("Stop", key="lab_stop", on_click=stop_job, args=(JOB,), disabled=not running)
if "error" in job:
    st.error(f"Training could not start: {job['error']}")
st.fragment(live_panel, run_every=0.5 if running else None)()
if job.get("recorded"):
    show_result(job)
    downloads(job)
if st.session_state.get(COMPARE):
    st.subheader("This session's lab runs, compared")
    metric = st.selectbox("Curve", ("val_loss", "loss", "val_accuracy", "val_r2"),
                          key="lab_compare_metric", format_func=plots.METRIC_TITLES.get)
    st.plotly_chart(plots.runs_overlay_figure(st.session_state[COMPARE], metric),
                    key="lab_compare_fig")
