"""The Playground's controls: settings read from the URL on the first run, each control hidden
when the URL says so (``hide=lr,activation``), the +/- layer buttons, and the validated settings.

State lives in st.session_state under ``pg_<setting>`` keys, the URL's names.
"""

from __future__ import annotations

from dataclasses import asdict

import streamlit as st

from nnplay.lessons import playground as pg

NON_WIDGETS = ("data_seed", "hidden", "seed", "features")   # kept in session state, not widgets
LABELS = {"lr": "Learning rate", "reg_rate": "Regularisation rate", "train_pct": "Training data (%)",
          "noise": "Noise (%)", "batch_size": "Batch size", "early_stopping":
          "Early stopping patience (0 = off)", "n_classes": "Classes", "epochs": "Epochs to train"}


def init_from_url() -> None:
    """On the first run, read every setting (and hidden controls) from st.query_params."""
    if "pg_hide" in st.session_state:
        return
    settings, hide, problems = pg.from_query_params(st.query_params.to_dict())
    for name, value in asdict(settings).items():
        st.session_state[f"pg_{name}"] = list(value) if name == "hidden" else value
    for f in pg.FEATURES:
        st.session_state[f"pg_feat_{f}"] = f in settings.features
    st.session_state.update(pg_hide=hide, pg_url_problems=problems, pg_playing=False,
                            pg_snapshots=[], pg_limit="")


def control(name: str, widget, *args, **kwargs):
    """Show a control unless the URL hides it; hidden controls keep the URL's value."""
    key = f"pg_{name}"
    if name in st.session_state.pg_hide:
        return st.session_state.get(key, getattr(pg.DEFAULTS, name))
    return widget(LABELS.get(name, name.replace("_", " ").capitalize()), *args, key=key, **kwargs)


def problem_changed() -> None:
    st.session_state.pg_dataset = pg.DATASETS[st.session_state.pg_problem][0]


def bump(name: str) -> None:
    """Regenerate (new data seed) or reset (new weight seed): a new run at epoch 0."""
    st.session_state[f"pg_{name}"] += 1
    st.session_state.pg_playing = False


def change_layers(layer: int | None, delta: int) -> None:
    """+/- buttons: add/remove a layer (layer None) or a neuron in one layer, within limits."""
    hidden = list(st.session_state.pg_hidden)
    if layer is None:
        hidden = hidden + [hidden[-1] if hidden else 4] if delta > 0 else hidden[:-1]
    else:
        hidden[layer] += delta
    try:
        st.session_state.pg_hidden = list(pg.check_hidden([h for h in hidden if h > 0]))
        st.session_state.pg_limit = ""
    except ValueError as err:
        st.session_state.pg_limit = str(err)


def data_controls() -> dict:
    values = {"problem": control("problem", st.radio, list(pg.DATASETS), horizontal=True,
                                 on_change=problem_changed)}
    values["dataset"] = control("dataset", st.selectbox, pg.DATASETS[values["problem"]])
    if values["dataset"] == "blobs":
        values["n_classes"] = control("n_classes", st.selectbox, [3, 4, 5])
    values["noise"] = control("noise", st.slider, 0, 50, step=5)
    values["train_pct"] = control("train_pct", st.slider, 10, 90, step=10)
    values["batch_size"] = control("batch_size", st.select_slider, pg.BATCH_SIZES,
                                   format_func=lambda b: "full" if b == 0 else str(b))
    if "data_seed" not in st.session_state.pg_hide:
        st.button("Regenerate data", key="pg_regenerate", on_click=bump, args=("data_seed",))
    return values


def feature_controls() -> None:
    if "features" in st.session_state.pg_hide:
        return
    st.markdown("**Input features**")
    cols = st.columns(4)
    for i, (name, (label, _)) in enumerate(pg.FEATURES.items()):
        cols[i % 4].checkbox(label, key=f"pg_feat_{name}")
    st.session_state.pg_features = tuple(f for f in pg.FEATURES if st.session_state[f"pg_feat_{f}"])


def network_controls() -> None:
    hidden = st.session_state.pg_hidden
    if "hidden" not in st.session_state.pg_hide:
        st.markdown(f"**Hidden layers: {len(hidden)}** (neurons: {list(hidden) or 'none'})")
        add, remove = st.columns(2)
        add.button("+ layer", key="pg_add_layer", on_click=change_layers, args=(None, 1))
        remove.button("- layer", key="pg_remove_layer", on_click=change_layers, args=(None, -1))
        for i, cols in enumerate(st.columns(len(hidden)) if hidden else []):
            cols.caption(f"layer {i + 1}: {hidden[i]}")
            cols.button("+", key=f"pg_add_neuron_{i}", on_click=change_layers, args=(i, 1))
            cols.button("-", key=f"pg_remove_neuron_{i}", on_click=change_layers, args=(i, -1))
    if st.session_state.pg_limit:
        st.warning(st.session_state.pg_limit)
    elif len(hidden) > pg.TF_MAX_LAYERS or max(hidden, default=0) > pg.TF_MAX_NEURONS:
        st.caption(f"Beyond TF Playground's {pg.TF_MAX_LAYERS} x {pg.TF_MAX_NEURONS}; nnplay "
                   f"allows {pg.MAX_LAYERS} layers of {pg.MAX_NEURONS}.")


def training_controls() -> dict:
    c1, c2 = st.columns(2)
    with c1:
        values = {"activation": control("activation", st.selectbox, pg.ACTIVATIONS),
                  "optimizer": control("optimizer", st.selectbox, pg.OPTIMIZERS),
                  "lr": control("lr", st.select_slider, pg.LEARNING_RATES),
                  "dropout": control("dropout", st.slider, 0.0, 0.5, step=0.05)}
    with c2:
        values |= {"regularization": control("regularization", st.selectbox, pg.REGULARIZATIONS),
                   "reg_rate": control("reg_rate", st.select_slider, pg.REG_RATES),
                   "schedule": control("schedule", st.selectbox, pg.SCHEDULES),
                   "early_stopping": control("early_stopping", st.number_input, 0, 1000),
                   "epochs": control("epochs", st.number_input, 1, pg.MAX_EPOCHS, step=100)}
    return values


def current_settings(values: dict) -> pg.PlaygroundSettings | None:
    """The settings from the widgets, or None (with a message) when they are impossible."""
    values |= {name: st.session_state[f"pg_{name}"] for name in NON_WIDGETS}
    values |= {name: control(name, st.checkbox) for name in ("show_test", "discretize")}
    values["hidden"], values["features"] = tuple(values["hidden"]), tuple(values["features"])
    values.setdefault("n_classes", st.session_state.get("pg_n_classes", 3))
    try:
        return pg.PlaygroundSettings(**values)
    except ValueError as err:
        st.error(f"These settings cannot be used: {err}")
        return None
