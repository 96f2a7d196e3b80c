"""The Playground's controls: the settings kept in session state, each control hidden when the
URL says so (``hide=lr,activation``), the +/- layer buttons, and the validated settings.

One PlaygroundSettings in ``st.session_state["pg_settings"]`` is the truth. It comes from the URL
on a session's first run (a shared link, a reload) and after that only from the controls. The
controls are widgets keyed ``pg_<setting>`` (``pg_feat_<feature>`` for the features), and
Streamlit forgets the state of every widget a run does not draw: a run of another page drops
them all, and the Playground would come back with every control at its minimum. So each run
first puts back, from ``pg_settings``, any widget value Streamlit dropped.
"""

from __future__ import annotations

import streamlit as st

from nnplay.lessons import playground as pg

SETTINGS = "pg_settings"
# Settings edited by a widget keyed pg_<name>; features, hidden, seed and data_seed are edited
# by checkboxes and buttons whose callbacks change pg_settings.
WIDGETS = ("problem", "dataset", "n_classes", "noise", "train_pct", "batch_size", "activation",
           "optimizer", "lr", "dropout", "regularization", "reg_rate", "schedule",
           "early_stopping", "epochs", "show_test", "discretize")
LABELS = {"lr": "Learning rate", "reg_rate": "Regularisation rate", "train_pct": "Training data (%)",
          "noise": "Noise (%)", "batch_size": "Batch size", "early_stopping":
          "Early stopping patience (0 = off)", "n_classes": "Classes",
          "epochs": "Schedule length (epochs)", "show_test": "Show test data",
          "discretize": "Discretize output"}
HELP = {"epochs": "Play runs until you pause. A learning-rate schedule spans this many epochs "
                  "(training stops at its end) and the exported script trains this long.",
        "lr": "Changes while training, without a reset, as do regularisation, batch size and "
              "the optimizer."}


def restore_state() -> None:
    """Read the settings from the URL on a session's first run; on every run, put back from
    them any widget value Streamlit dropped (it does for widgets a run does not draw)."""
    state = st.session_state
    if SETTINGS not in state:
        settings, hide, problems = pg.from_query_params(st.query_params.to_dict())
        state.update(pg_settings=settings, pg_hide=hide, pg_url_problems=problems,
                     pg_playing=False, pg_snapshots=[], pg_limit="")
    settings = state[SETTINGS]
    for name in WIDGETS:
        state.setdefault(f"pg_{name}", getattr(settings, name))
    for feature in pg.FEATURES:
        state.setdefault(f"pg_feat_{feature}", feature in settings.features)


def settings() -> pg.PlaygroundSettings:
    """The settings as the last run left them (the controls may change them in this run)."""
    return st.session_state[SETTINGS]


def control(name: str, widget, *args, **kwargs):
    """Show a control unless the URL hides it; hidden controls keep the settings' value."""
    if name in st.session_state.pg_hide:
        return getattr(settings(), name)
    label = LABELS.get(name, name.replace("_", " ").capitalize())
    return widget(label, *args, key=f"pg_{name}", help=HELP.get(name), **kwargs)


def problem_changed() -> None:
    st.session_state.pg_dataset = pg.DATASETS[st.session_state.pg_problem][0]


def bump(name: str) -> None:
    """Regenerate (new data seed) or reset (new weight seed): a new run at epoch 0."""
    s = settings()
    st.session_state[SETTINGS] = s.replace(**{name: getattr(s, name) + 1})
    st.session_state.pg_playing = False


def change_layers(layer: int | None, delta: int) -> None:
    """+/- buttons: add/remove a layer (layer None) or a neuron in one layer, within limits."""
    hidden = list(settings().hidden)
    if layer is None:
        hidden = hidden + [hidden[-1] if hidden else 4] if delta > 0 else hidden[:-1]
    else:
        hidden[layer] += delta
    try:
        hidden = pg.check_hidden([h for h in hidden if h > 0])
        st.session_state[SETTINGS] = settings().replace(hidden=hidden)
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


def feature_controls() -> tuple[str, ...]:
    if "features" in st.session_state.pg_hide:
        return settings().features
    st.markdown("**Input features**")
    cols = st.columns(4)
    for i, (name, (label, _)) in enumerate(pg.FEATURES.items()):
        cols[i % 4].checkbox(label, key=f"pg_feat_{name}")
    return tuple(f for f in pg.FEATURES if st.session_state[f"pg_feat_{f}"])


def network_controls() -> None:
    hidden = settings().hidden
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
    """The settings the controls now show, kept as the session's settings; None (with a
    message, the last good settings kept) when they are impossible."""
    values |= {name: control(name, st.checkbox) for name in ("show_test", "discretize")}
    try:
        new = settings().replace(**values)
    except ValueError as err:
        st.error(f"These settings cannot be used: {err}")
        return None
    st.session_state[SETTINGS] = new
    return new
