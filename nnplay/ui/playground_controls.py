"""The Playground's controls: the settings kept in session state, each control locked when the
URL says so (``hide=lr,activation``: the value shows, read-only), the +/- layer buttons, your own
CSV as the data, the validated settings, and the exports and exercise builder below the view.

One PlaygroundSettings in ``st.session_state["pg_settings"]`` is the truth. It comes from the URL
on a session's first run (a shared link, a reload) and after that only from the controls. The
controls are widgets keyed ``pg_<setting>`` (``pg_feat_<feature>`` for the features), and
Streamlit forgets the state of every widget a run does not draw: a run of another page drops
them all, and the Playground would come back with every control at its minimum. So each run
first puts back, from ``pg_settings``, any widget value Streamlit dropped. An uploaded CSV lives
in ``pg_csv`` (a PlaneCsv) and its column choices in ``pg_csv_columns``, so they survive too.
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from nnplay.lessons import playground as pg
from nnplay.lessons.playground import export as codegen
from nnplay.lessons.playground import upload as plane_upload
from nnplay.ui import cache

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
LOCKED = "(set by your instructor)"
HIDE_HELP = (
    "Lock controls for an exercise: the link's `hide=` lists them, comma-separated (e.g. "
    "`?dataset=xor&lr=0.1&hide=lr,activation`). A locked control shows its value, read-only, "
    "with the note “set by your instructor”. The names: {names}.")


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
    for name, column in zip(("x1", "x2", "label"), state.get("pg_csv_columns", ())):
        state.setdefault(f"pg_csv_{name}", column)


def settings() -> pg.PlaygroundSettings:
    """The settings as the last run left them (the controls may change them in this run)."""
    return st.session_state[SETTINGS]


def label_of(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def value_text(name: str, value) -> str:
    """A setting's value for a person: 'full batch', 'X₁, X₂', '4, 2 neurons', 'on'."""
    if name == "batch_size" and value == 0:
        return "full batch"
    if name == "features":
        return ", ".join(pg.FEATURES[f][0] for f in value)
    if name == "hidden":
        return f"{', '.join(map(str, value))} neurons" if value else "none (a linear model)"
    if name == "dataset":
        return pg.data_label(settings())
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


def locked(name: str) -> bool:
    """True (after showing the value, read-only) when the link locks this control."""
    if name not in st.session_state.pg_hide:
        return False
    value = value_text(name, getattr(settings(), name))
    st.caption(f":material/lock: {label_of(name)}: **{value}** {LOCKED}")
    return True


def control(name: str, widget, *args, **kwargs):
    """Show a control, or, when the URL locks it, its value read-only (the settings keep it)."""
    if locked(name):
        return getattr(settings(), name)
    return widget(label_of(name), *args, key=f"pg_{name}", help=HELP.get(name), **kwargs)


def problem_changed() -> None:
    if st.session_state.pg_dataset != pg.UPLOAD:     # your CSV serves either problem type
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
    names = pg.DATASETS[values["problem"]]
    names += () if "upload" in st.session_state.pg_hide else (pg.UPLOAD,)
    values["dataset"] = control("dataset", st.selectbox, names, format_func=lambda d: {
        pg.UPLOAD: "your CSV (upload)"}.get(d, d))
    values |= upload_controls(values["problem"]) if values["dataset"] == pg.UPLOAD else {"upload": ""}
    if values["dataset"] == "blobs":
        values["n_classes"] = control("n_classes", st.selectbox, [3, 4, 5])
    if values["dataset"] != pg.UPLOAD:
        values["noise"] = control("noise", st.slider, 0, 50, step=5)
    values["train_pct"] = control("train_pct", st.slider, 10, 90, step=10)
    values["batch_size"] = control("batch_size", st.select_slider, pg.BATCH_SIZES,
                                   format_func=lambda b: "full" if b == 0 else str(b))
    if not locked("data_seed"):
        st.button("Regenerate data", key="pg_regenerate", on_click=bump, args=("data_seed",))
    return values


def feature_controls() -> tuple[str, ...]:
    if locked("features"):
        return settings().features
    st.markdown("**Input features**")
    cols = st.columns(4)
    for i, (name, (label, _)) in enumerate(pg.FEATURES.items()):
        cols[i % 4].checkbox(label, key=f"pg_feat_{name}")
    return tuple(f for f in pg.FEATURES if st.session_state[f"pg_feat_{f}"])


def network_controls() -> None:
    hidden = settings().hidden
    if not locked("hidden"):
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


# ---- your own CSV ---------------------------------------------------------------------------
def upload_controls(problem: str) -> dict:
    """The CSV uploader and its column choices; the settings' dataset and upload when they make
    a plane, else the built-in data kept (with a message saying what to change)."""
    state = st.session_state
    fallback = {"dataset": pg.DATASETS[problem][0], "upload": ""}
    if settings().dataset == pg.UPLOAD:
        fallback = {"dataset": pg.UPLOAD, "upload": settings().upload}
    file = st.file_uploader("Your CSV: two numeric columns (x1, x2) and a label", type=["csv"],
                            key="pg_csv_file", help="At most "
                            f"{plane_upload.MAX_PLANE_ROWS:,} rows; the label is a class "
                            "(classification) or a number (regression).")
    if file is not None and state.get("pg_csv_id") != file.file_id:
        state.pg_csv_id = file.file_id
        try:
            csv = plane_upload.read_plane_csv(file.getvalue(), file.name)
        except ValueError as err:
            state.pg_csv_error = f"{file.name}: {err}"
        else:
            state.pg_csv, state.pg_csv_error = csv, ""
            state.pg_csv_x1, state.pg_csv_x2, state.pg_csv_label = csv.suggested()
    if state.get("pg_csv_error"):
        st.error(state.pg_csv_error)
    csv = state.get("pg_csv")
    if csv is None:
        st.info(f"Upload a CSV to train on your own points; until then the Playground shows "
                f"{pg.data_label(settings()) if fallback['upload'] else fallback['dataset']}.")
        return fallback
    if file is None:
        st.caption(f"Using {csv.name} ({csv.n_rows:,} rows), uploaded earlier.")
    x1 = st.selectbox("x1 column", csv.numeric, key="pg_csv_x1")
    x2 = st.selectbox("x2 column", csv.numeric, key="pg_csv_x2")
    label = st.selectbox("Label column", csv.columns, key="pg_csv_label")
    train_pct = state.get("pg_train_pct", settings().train_pct)
    try:
        raw = plane_raw(csv, (x1, x2, label), problem, train_pct, settings().data_seed)
    except ValueError as err:
        st.error(f"These columns cannot be used: {err} Until then the Playground shows "
                 f"{pg.DATASETS[problem][0]}.")
        return {"dataset": pg.DATASETS[problem][0], "upload": ""}
    state.pg_csv_columns = (x1, x2, label)
    with st.expander("What happened to your file"):
        for note in plane_upload.plane_notes(raw):
            st.caption(note)
    return {"dataset": pg.UPLOAD, "upload": plane_upload.plane_key(csv, x1, x2, label)}


def plane_raw(csv, columns, problem: str, train_pct: int, data_seed: int):
    """The CSV's plane, kept in session state for the last few column and split choices."""
    key = (plane_upload.plane_key(csv, *columns), problem, train_pct, data_seed)
    memo = st.session_state.setdefault("pg_planes", {})
    if key not in memo:
        raw = plane_upload.load_plane(csv, *columns, problem=problem,
                                      test_size=round(1 - train_pct / 100, 4), seed=data_seed)
        while len(memo) >= 3:
            memo.pop(next(iter(memo)))
        memo[key] = raw
    return memo[key]


def raw_dataset(s: pg.PlaygroundSettings):
    """The 2-D points the settings describe: a built-in set (cached) or your CSV's plane."""
    if s.dataset != pg.UPLOAD:
        return cache.load_dataset(s.dataset, **s.dataset_params())
    state = st.session_state
    return plane_raw(state.pg_csv, state.pg_csv_columns, s.problem, s.train_pct, s.data_seed)


# ---- exports and the exercise builder -------------------------------------------------------
def export_and_share(s: pg.PlaygroundSettings) -> None:
    """Download the experiment as a script or a notebook; build an exercise link."""
    raw = raw_dataset(s) if s.dataset == pg.UPLOAD else None
    script = codegen.export_script(s, raw=raw)
    left, right = st.columns(2)
    left.download_button("Export as a PyTorch script", script, file_name="playground_experiment.py",
                         mime="text/x-python", key="pg_export")
    right.download_button("Export as a Jupyter notebook", codegen.export_notebook(s, raw=raw),
                          file_name="playground_experiment.ipynb",
                          mime="application/x-ipynb+json", key="pg_export_nb")
    with st.expander("The exported script"):
        st.code(script, language="python")
    exercise_builder(s)


def exercise_builder(s: pg.PlaygroundSettings) -> None:
    """Instructors: lock controls at the current values and copy the link."""
    with st.expander("Exercise builder (for instructors)"):
        st.markdown(HIDE_HELP.format(names=", ".join(f"`{n}`" for n in pg.HIDEABLE)))
        lock = st.multiselect("Controls to lock at their current values", pg.HIDEABLE,
                              default=sorted(st.session_state.pg_hide), format_func=label_of,
                              key="pg_lock")
        query = urlencode(pg.to_query_params(s, lock))
        base = (st.context.url or "").split("?")[0]
        st.code(f"{base}?{query}", language=None)
        st.caption("Copy the link with the button at its right; whoever opens it gets these "
                   "settings with the chosen controls locked.")
        if s.dataset == pg.UPLOAD:
            st.warning(f"The link names your CSV ({pg.data_label(s)}) but cannot carry the file: "
                       "learners see built-in data until they upload the same file.")
