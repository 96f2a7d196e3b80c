"""Lesson: Runs. Every training run kept in the run store: filtered by lesson and dataset, a table
sorted by any metric, the curves of comparable runs overlaid, delete your own runs, download a run
as JSON or for TensorBoard; and models: download one from this session (weights plus config JSON)
or upload one to evaluate it and train it further.
"""

from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st

from nnplay.plots import runs as plots
from nnplay.plots.training import METRIC_TITLES
from nnplay.train import runs, tensorboard
from nnplay.ui import owner
from nnplay.ui.models_panel import model_actions, model_upload
from nnplay.ui.pages import LESSONS

DELETE_ERROR = "runs_delete_error"
INFO_COLUMNS = ("id", "created", "lesson", "owner", "name", "dataset", "task", "family", "status",
                "device")
MAX_DEFAULT_COMPARE = 5
LESSON_TITLES = {**{Path(lesson.page).stem: lesson.title for lesson in LESSONS},
                 "cli": "Command line", "notebook": "Notebook", "upload": "Uploaded model"}


def all_by_default(label: str, options: list, key: str, **kwargs) -> list:
    """A multiselect that starts with every option chosen; options that appear later join it."""
    seen = st.session_state.get(f"{key}_seen", set())
    if key in st.session_state and any(o not in seen for o in options):
        st.session_state[key] = [o for o in options if o in st.session_state[key] or o not in seen]
    st.session_state[f"{key}_seen"] = set(options)
    default = None if key in st.session_state else list(options)
    return st.multiselect(label, options, default=default, key=key, **kwargs)


def run_filters(store: runs.RunStore) -> dict | None:
    """Lesson and dataset filters (and "only mine" on a shared server); None when there are no runs."""
    if not len(store):
        st.info(f"No runs stored yet in `{store.location}`. Train one in the Training lab, the "
                "Playground or with `nnplay train`.")
        return None
    c1, c2 = st.columns(2)
    with c1:
        lessons = all_by_default("Lessons", store.distinct("lesson"), "runs_lessons",
                                 format_func=lambda i: LESSON_TITLES.get(i, i))
    with c2:
        datasets = all_by_default("Datasets", store.distinct("dataset"), "runs_datasets")
    mine = owner.workshop_mode() or (owner.shared_server()
                                     and st.toggle("Only my runs", key="runs_mine"))
    if owner.workshop_mode():
        st.caption("In a workshop you see your own runs; the class leaderboard is in the sidebar.")
    return {"lesson": lessons, "dataset": datasets, "owner": owner.owner_id() if mine else None}


def runs_table(store: runs.RunStore, filters: dict):
    """The sortable table of the runs the filters keep; returns it (empty when none match)."""
    everything = store.list(**filters)
    if everything.empty:
        st.info("No runs match these filters.")
        return everything
    sortable = [c for c in everything.columns if c not in INFO_COLUMNS or c in ("id", "created")]
    default = "test_accuracy" if "test_accuracy" in sortable else "created"
    c1, c2 = st.columns([3, 1])
    order_by = c1.selectbox("Sort by", sortable, index=sortable.index(default), key="runs_sort")
    descending = c2.toggle("Largest first", True, key="runs_desc")
    table = runs.sort_runs(everything, order_by, descending)
    front = ["id", "name", "lesson", "owner", "dataset", "status", "epochs"]
    metrics = [c for c in table.columns if c not in INFO_COLUMNS and c not in front + ["duration_s"]]
    shown = table[front + metrics + [c for c in table.columns if c not in front + metrics]].copy()
    shown["lesson"] = shown["lesson"].map(lambda i: LESSON_TITLES.get(i, i))
    shown["owner"] = shown["owner"].map(owner.owner_label)
    st.dataframe(shown, key="runs_table", hide_index=True,
                 column_config={"duration_s": st.column_config.NumberColumn("seconds",
                                                                            format="%.2f")})
    st.caption(f"{len(table)} {'run' if len(table) == 1 else 'runs'} in `{store.location}`")
    return table


def default_comparison(table) -> list[int]:
    """The newest run's comparable group (same dataset and task), up to MAX_DEFAULT_COMPARE runs."""
    newest = table.loc[table["id"].idxmax()]
    return runs.comparable_groups(table)[(newest.dataset, newest.task)][:MAX_DEFAULT_COMPARE]


def compare_runs(store: runs.RunStore, table) -> None:
    """Overlay the chosen runs' curves for one per-epoch quantity, one plot per comparable group."""
    labels = {row.id: f"#{row.id} {row.name}" for row in table.itertuples()}
    chosen = st.multiselect("Runs to compare", list(labels), default=default_comparison(table),
                            key="runs_compare", format_func=labels.get)
    if not chosen:
        st.info("Choose runs to see their curves.")
        return
    groups = {group: {labels[i]: store.get(i)["history"] for i in ids}
              for group, ids in runs.comparable_groups(table, chosen).items()}
    if len(groups) > 1:
        names = ", ".join(plots.group_title(*group) for group in groups)
        st.warning(f"These runs are not comparable: they learned different datasets or tasks "
                   f"({names}). Each group gets its own plot; compare curves within a group.")
    keys = plots.shared_curve_keys(groups)
    if not keys:
        st.info("These runs have no per-epoch history.")
        return
    c1, c2 = st.columns([3, 1])
    key = c1.selectbox("Curve", keys, index=keys.index("val_loss") if "val_loss" in keys else 0,
                       key="runs_curve", format_func=METRIC_TITLES.get)
    log_y = c2.toggle("Log scale", key="runs_log")
    figures = plots.group_overlay_figures(groups, key, log_y)
    for n, (_, fig) in enumerate(figures):
        st.plotly_chart(fig, key="runs_overlay_fig" if n == 0 else f"runs_overlay_fig_{n}")
    missing = [plots.group_title(*g) for g in groups if plots.group_title(*g) not in dict(figures)]
    if missing:
        st.caption(f"No run in {', '.join(missing)} recorded {METRIC_TITLES.get(key, key)}.")


def delete_run(store: runs.RunStore, run_id: int) -> None:
    try:
        store.delete(run_id, owner=owner.delete_owner())
    except ValueError as err:  # someone else's run: the store refuses, nothing is lost
        st.session_state[DELETE_ERROR] = str(err)
    st.session_state.pop("runs_compare", None)


def one_run(store: runs.RunStore, table) -> None:
    """Download one run as JSON or for TensorBoard, or delete it when it is yours."""
    names = table.set_index("id")["name"]
    run_id = st.selectbox("Run", list(names.index), key="runs_one",
                          format_func=lambda i: f"#{i} {names[i]}")
    record = store.get(run_id)
    has_tensorboard = tensorboard.tensorboard_available()
    mine = owner.can_delete(record["owner"])
    c1, c2, c3 = st.columns(3)
    c1.download_button("Download run as JSON", store.export_json(run_id), f"run-{run_id}.json",
                       mime="application/json", key="runs_download")
    c2.download_button("Download for TensorBoard (zip)",
                       functools.partial(tensorboard.tensorboard_zip, record),
                       f"run-{run_id}-tensorboard.zip", mime="application/zip",
                       key="runs_download_tb", disabled=not has_tensorboard,
                       help="Unzip, then run: tensorboard --logdir <the folder>")
    c3.button("Delete run", key="runs_delete", on_click=delete_run, args=(store, run_id),
              disabled=not mine)
    if not has_tensorboard:
        st.caption(tensorboard.INSTALL_HINT)
    if not mine:
        st.caption(f"This run belongs to {owner.owner_label(record['owner'])}: you can look at it "
                   "and download it; only its owner can delete it.")
    if DELETE_ERROR in st.session_state:
        st.error(st.session_state.pop(DELETE_ERROR))


st.title("Runs")
st.markdown("Every training run from the Training lab, the Playground and `nnplay train` is "
            "kept here, with its settings and its curves, so you can compare them.")
if owner.shared_server():
    owner.owner_id()  # the session's first call may write this browser's cookie: keep it up here
    st.caption("This is a shared server: runs marked *you* were made in this browser, and only "
               "you can delete them. Another browser or a private window counts as someone else.")
try:
    store = runs.RunStore()
except runs.RunStoreError as err:
    st.error(str(err))
    store = None
filters = run_filters(store) if store is not None else None
if filters is not None:
    table = runs_table(store, filters)
    if not table.empty:
        st.subheader("Compare curves")
        compare_runs(store, table)
        st.subheader("One run")
        one_run(store, table)
st.subheader("Models")
st.caption("The same as **Your models** in the sidebar: download any model of this session as "
           "one zip, or upload one to evaluate it and use it on every page.")
tab_down, tab_up = st.tabs(["Download a model", "Upload a model"])
with tab_down:
    model_actions("runs_models")
with tab_up:
    model_upload("runs_models")
