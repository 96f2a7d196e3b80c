"""The session's Workspace in st.session_state: the one way a page registers a model, the model
picker later pages share, training a default model on the spot, and the "Your models" panel.

``register`` puts a model in this session's workspace AND stores its run in the run store (with
the lesson and the learner who made it), so every page that trains records its runs the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from nnplay.train.workspace import Workspace, WorkspaceFull, WorkspaceModel

KEY = "nnplay_workspace"
NOTICE = "nnplay_workspace_notice"
STORE_ERROR = "nnplay_run_store_error"   # why the last run could not be stored


def workspace() -> Workspace:
    """This browser session's Workspace (created on first use)."""
    if KEY not in st.session_state:
        st.session_state[KEY] = Workspace()
    return st.session_state[KEY]


def workspace_names() -> tuple[str, ...]:
    """The names of this session's models (to notice when a page added or dropped one)."""
    return tuple(m.name for m in workspace().list())


def _test_metrics(metrics: dict) -> dict:
    return {k[5:]: v for k, v in metrics.items() if k.startswith("test_")}


def register(trainer=None, *, lesson: str, spec=None, name: str = "", model=None, dataset=None,
             group: str = "", metrics: dict | None = None, record_run: bool = True,
             quiet: bool = False) -> WorkspaceModel | None:
    """Register a model in this session's workspace and store its run; returns the entry.

    Give the ``trainer`` that trained it (its model, data, config, history and status are read
    from it; ``model`` may be a copy of its model to keep while training goes on), or ``model``
    and ``dataset`` for a model made without the Trainer. ``spec`` defaults
    to ``trainer.spec``. Models dropped to make room, and a full workspace, are told to the
    learner; a run store that cannot be written is a warning, and the model is still kept.
    """
    from nnplay.models import ModelSpec
    from nnplay.train import runs

    spec = spec if spec is not None else getattr(trainer, "spec", None)
    if spec is None:
        raise ValueError("register needs the model's spec (family and settings).")
    spec = ModelSpec.of(spec)
    run_metrics, run_id = {}, None
    if trainer is not None:
        model = trainer.model if model is None else model   # e.g. a copy of a live model
        dataset = trainer.dataset
        run_metrics = runs.final_metrics(trainer)
        if record_run:
            run_id = _save_run(trainer, spec, lesson, name or f"{spec.family} on {dataset.name}",
                               run_metrics)
    try:
        entry = workspace().register(
            model, dataset, spec, lesson, name=name,
            train_config=getattr(trainer, "config", None),
            history=trainer.history_copy() if trainer is not None else (),
            metrics=metrics if metrics is not None else _test_metrics(run_metrics),
            status=_status(trainer), group=group, run_id=run_id)
    except WorkspaceFull as err:
        st.error(str(err))
        return None
    dropped = workspace().last_dropped
    if dropped and not quiet:
        st.session_state[NOTICE] = (f"To stay within this session's memory budget, "
                                    f"{', '.join(dropped)} left your models (pin a model in "
                                    "**Your models** to keep it).")
    return entry


def _status(trainer) -> str:
    if trainer is None:
        return "completed"
    return trainer.status if trainer.status in ("completed", "early_stopped", "stopped",
                                                "diverged", "paused") else "stopped"


def _save_run(trainer, spec, lesson: str, name: str, metrics: dict) -> int | None:
    from nnplay.device import device_name
    from nnplay.train import runs
    from nnplay.ui.owner import owner_id

    try:
        record = runs.make_record(trainer, spec.to_dict(), lesson=lesson, owner=owner_id(),
                                  device=device_name(trainer.device), name=name, metrics=metrics)
        return runs.RunStore().save(record)
    except (runs.RunStoreError, ValueError) as err:
        st.session_state[NOTICE] = st.session_state[STORE_ERROR] = \
            f"The model is in this session's models, but its run was not stored: {err}"
        return None


def show_notice() -> None:
    """Say once what the workspace did on the learner's behalf (a model dropped, a run not stored)."""
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.toast(notice, icon=":material/info:")


def model_picker(key: str, task: str | None = None, kind: str | None = None,
                 label: str = "Model from this session",
                 where: Callable[[WorkspaceModel], bool] | None = None,
                 none_yet: str = "") -> WorkspaceModel | None:
    """A selectbox over the session's models (filtered by task, kind and ``where``); None with
    a hint (``none_yet`` when given) when there are none."""
    models = [m for m in workspace().list(task=task, kind=kind) if where is None or where(m)]
    if not models:
        what = " ".join(x for x in (kind, task) if x)
        st.info(none_yet or f"No {what + ' ' if what else ''}models in this session yet: train "
                "one here, or on the Playground, Training lab or architecture pages.")
        return None
    names = [m.name for m in models]
    # labels computed now: AppTest calls format_func outside the script run, without session state
    labels = {m.name: m.label() for m in models}
    if st.session_state.get(f"{key}_prefer") in names:   # a model just trained here: select it
        st.session_state[key] = st.session_state.pop(f"{key}_prefer")
    choice = st.selectbox(label, names, key=key, format_func=labels.get)
    return workspace().get(choice)


def pick_or_train(key: str, lesson: str, dataset_for: Callable[[], object], spec_for=None,
                  epochs: int | Callable[[object], int] = 30, task: str | None = None, kind: str | None = None,
                  what: str = "a model", config=None,
                  checkpoint: Callable[[], object] | None = None) -> WorkspaceModel | None:
    """The session's models first; otherwise (or on request) train one in the background.

    A page opened with no suitable model starts training a default one at once (the data from
    ``dataset_for()``, the network from ``spec_for(dataset)`` or nnplay.train.quick's default,
    trained with ``config`` or nnplay.train.quick's default, for the epochs the learner sets),
    shows its progress with a Stop button, and selects it when done: something to do at once.
    ``checkpoint()``, when given, returns a shipped model (a modelio.LoadedModel, or None) that
    a first visit adds to the session instead of training.
    """
    from nnplay.ui.jobs import job_panel

    job_key = f"{key}_spot_job"
    has_models = bool(workspace().list(task=task, kind=kind))
    if not has_models and checkpoint is not None and f"{key}_shipped" not in st.session_state:
        st.session_state[f"{key}_shipped"] = True   # once: a learner may remove it again
        has_models = _add_shipped(checkpoint)
    choices = ["From this session", "Train one on the spot"]
    if not has_models and f"{key}_source" not in st.session_state:
        st.session_state[f"{key}_source"] = choices[1]
    source = st.radio("Model", choices, horizontal=True, key=f"{key}_source")
    if source == choices[0]:
        return model_picker(f"{key}_model", task=task, kind=kind)
    dataset = dataset_for()
    if dataset is None:
        return None
    default_epochs = epochs(dataset) if callable(epochs) else int(epochs)
    spot_epochs = int(st.number_input("Epochs", 1, 500, default_epochs,   # one per kind of data
                                      key=f"{key}_spot_epochs_{len(dataset.input_shape)}"))
    job = st.session_state.get(job_key) or {}
    fresh = job.get("dataset_key") != _dataset_key(dataset)
    # new data (or a first visit) trains at once; the button trains again with other settings
    if st.button(f"Train {what}" + (" again with these settings" if job else ""),
                 key=f"{key}_spot_go") or fresh:   # a running job is replaced
        _start_spot_job(job_key, dataset, spec_for, spot_epochs, config)

    def finish(done: dict) -> None:
        trainer = done["worker"].trainer
        entry = register(trainer, lesson=lesson, name=f"{lesson} {trainer.spec.family} on "
                                                       f"{trainer.dataset.name}")
        if entry is not None:
            done["entry"] = entry.name
            st.session_state[f"{key}_model_prefer"] = entry.name

    done = job_panel(job_key, finish, what=f"Training {what}")
    if done is None or done.get("entry") not in workspace():
        return None
    return workspace().get(done["entry"])


def _add_shipped(checkpoint: Callable[[], object]) -> bool:
    try:
        loaded = checkpoint()
    except ValueError as err:   # a damaged or outdated file: train one instead
        st.warning(f"The shipped model could not be loaded ({err}); training one instead.")
        return False
    if loaded is None:
        return False
    try:
        workspace().add_record(loaded.record, loaded.model, loaded.dataset)
    except ValueError:
        return False
    return True


def _dataset_key(dataset) -> str:
    from nnplay.data.ref import DatasetRef

    try:
        return DatasetRef.of(dataset).to_json()
    except ValueError:
        return f"{dataset.name}:{dataset.n_train}:{dataset.n_features}"


def _start_spot_job(job_key: str, dataset, spec_for, epochs: int, config=None) -> None:
    from nnplay.train.jobs import Job
    from nnplay.train.quick import default_config, quick_trainer
    from nnplay.ui.jobs import start_job

    try:
        spec = spec_for(dataset) if spec_for else None
        config = default_config(epochs) if config is None else config.replace(epochs=epochs)
        trainer = quick_trainer(dataset, spec, config)
    except ValueError as err:
        st.session_state[job_key] = {"error": str(err)}
        return
    start_job(job_key, Job.for_trainer(trainer), dataset_key=_dataset_key(dataset))
