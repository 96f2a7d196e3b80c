"""The session's Workspace in st.session_state, and the model picker later pages share."""

from __future__ import annotations

import streamlit as st

from nnplay.train.workspace import Workspace, WorkspaceModel

KEY = "nnplay_workspace"


def workspace() -> Workspace:
    """This browser session's Workspace (created on first use)."""
    if KEY not in st.session_state:
        st.session_state[KEY] = Workspace()
    return st.session_state[KEY]


def register(name, model, dataset, config=None, history=None, source="", family="mlp",
             metrics=None) -> WorkspaceModel:
    """Add a trained model to this session's workspace; returns its entry (with a unique name)."""
    return workspace().add(name, model, dataset, config, history, source, family, metrics)


def model_picker(key: str, task: str | None = None, kind: str | None = None,
                 label: str = "Model from this session") -> WorkspaceModel | None:
    """A selectbox over the session's models (filtered); None with a hint when there are none."""
    models = workspace().list(task=task, kind=kind)
    if not models:
        what = " ".join(x for x in (kind, task) if x)
        st.info(f"No {what + ' ' if what else ''}models trained in this session yet: train one "
                "here, or on the Playground, Training lab or architecture pages.")
        return None
    names = [m.name for m in models]
    # labels computed now: AppTest calls format_func outside the script run, without session state
    labels = {m.name: m.label() for m in models}
    choice = st.selectbox(label, names, key=key, format_func=labels.get)
    return workspace().get(choice)


def pick_or_train(key: str, train_here, spot_key: str, task: str | None = None,
                  kind: str | None = None) -> WorkspaceModel | None:
    """'From this session' (the model picker) or 'Train one on the spot' (``train_here()`` draws
    its settings and stores the new model's name in st.session_state[spot_key])."""
    source = st.radio("Model", ["From this session", "Train one on the spot"], horizontal=True,
                      key=f"{key}_source")
    if source == "From this session":
        return model_picker(f"{key}_model", task=task, kind=kind)
    train_here()
    name = st.session_state.get(spot_key)
    return workspace().get(name) if name in workspace() else None
