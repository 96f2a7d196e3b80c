"""Lesson: Runs. Every training run kept in the run store: a table sorted by any metric, curves
of chosen runs overlaid, delete, download a run as JSON; and models: download one from this
session (weights plus config JSON) or upload one to evaluate it and train it further.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from nnplay.models import modelio
from nnplay.plots import training as plots
from nnplay.train import evaluate, runs
from nnplay.ui import cache
from nnplay.ui import workspace as ws

UPLOADED = "runs_uploaded"
INFO_COLUMNS = ("id", "created", "source", "name", "dataset", "family", "status", "device")


def runs_table(store: runs.RunStore):
    """The sortable table of stored runs; returns it (empty when there are none)."""
    everything = store.list()
    if everything.empty:
        st.info(f"No runs stored yet in `{store.path}`. Train one in the Training lab, the "
                "Playground or with `nnplay train`.")
        return everything
    sortable = [c for c in everything.columns if c not in INFO_COLUMNS or c in ("id", "created")]
    default = "test_accuracy" if "test_accuracy" in sortable else "created"
    c1, c2 = st.columns([3, 1])
    order_by = c1.selectbox("Sort by", sortable, index=sortable.index(default), key="runs_sort")
    descending = c2.toggle("Largest first", True, key="runs_desc")
    table = store.list(order_by=order_by, descending=descending)
    front = ["id", "name", "dataset", "status", "epochs"]
    metrics = [c for c in table.columns if c not in INFO_COLUMNS and c not in front + ["duration_s"]]
    shown = table[front + metrics + [c for c in table.columns if c not in front + metrics]]
    st.dataframe(shown, key="runs_table", hide_index=True,
                 column_config={"duration_s": st.column_config.NumberColumn("seconds",
                                                                            format="%.2f")})
    st.caption(f"{len(table)} runs in `{store.path}`")
    return table


def compare_runs(store: runs.RunStore, table) -> None:
    """Overlay the chosen runs' curves for one per-epoch quantity."""
    ids = table["id"].tolist()
    labels = {row.id: f"#{row.id} {row.name}" for row in table.itertuples()}
    chosen = st.multiselect("Runs to compare", ids, default=ids[:3], key="runs_compare",
                            format_func=labels.get)
    if not chosen:
        st.info("Choose runs to see their curves.")
        return
    histories = {labels[i]: store.get(i)["history"] for i in chosen}
    keys = plots.metric_keys(list(histories.values()))
    if not keys:
        st.info("These runs have no per-epoch history.")
        return
    c1, c2 = st.columns([3, 1])
    key = c1.selectbox("Curve", keys, index=keys.index("val_loss") if "val_loss" in keys else 0,
                       key="runs_curve", format_func=plots.METRIC_TITLES.get)
    log_y = c2.toggle("Log scale", key="runs_log")
    st.plotly_chart(plots.runs_overlay_figure(histories, key, log_y), key="runs_overlay_fig")


def delete_run(store: runs.RunStore, run_id: int) -> None:
    store.delete(run_id)
    st.session_state.pop("runs_compare", None)


def one_run(store: runs.RunStore, table) -> None:
    """Download one run as JSON, or delete it."""
    ids = table["id"].tolist()
    run_id = st.selectbox("Run", ids, key="runs_one",
                          format_func=lambda i: f"#{i} {table.set_index('id').loc[i, 'name']}")
    c1, c2 = st.columns(2)
    c1.download_button("Download run as JSON", store.export_json(run_id), f"run-{run_id}.json",
                       mime="application/json", key="runs_download")
    c2.button("Delete run", key="runs_delete", on_click=delete_run, args=(store, run_id))


def download_model() -> None:
    """Weights plus config JSON of a model trained in this session."""
    picked = ws.model_picker("runs_model")
    if picked is None:
        return
    spec = picked.config.get("model_spec", {"family": picked.family, "params": {}})
    fmt = st.radio("Weights format", list(modelio.WEIGHT_FORMATS), horizontal=True,
                   key="runs_weights_format")
    blob, config_json = modelio.export_model(picked.model, spec, picked.dataset,
                                             {k: v for k, v in picked.config.items()
                                              if k != "model_spec"}, weights=fmt)
    c1, c2 = st.columns(2)
    c1.download_button("Download weights", blob, f"model{modelio.WEIGHT_FORMATS[fmt]}",
                       key="runs_dl_weights")
    c2.download_button("Download config (JSON)", config_json, "model.json",
                       mime="application/json", key="runs_dl_config")


def upload_model() -> None:
    """Load weights and config (never running code from them), evaluate, add to the session."""
    c1, c2 = st.columns(2)
    config_file = c1.file_uploader("Config (.json)", type=["json"], key="runs_up_config")
    weights_file = c2.file_uploader("Weights (.safetensors, .pt or .pth)",
                                    type=["safetensors", "pt", "pth"], key="runs_up_weights")
    if config_file is None or weights_file is None:
        st.caption("Upload both files saved with a model to evaluate it here; it then appears "
                   "in this session's models, ready to train further in the Training lab.")
        return
    raw_config, raw_weights = config_file.getvalue(), weights_file.getvalue()
    digest = hashlib.sha256(raw_config + b"\0" + raw_weights).hexdigest()
    try:
        config = modelio.read_config(raw_config)
        info = config["dataset"]
        dataset = cache.load_dataset(info.get("name", ""), **dict(info.get("params") or {}))
        loaded = modelio.load_model(raw_weights, config, dataset=dataset)
    except ValueError as err:
        st.error(f"This model cannot be loaded: {err}")
        return
    metrics = evaluate(loaded.model, loaded.dataset)
    done = st.session_state.setdefault(UPLOADED, {})
    if digest not in done:  # register once per upload, not on every rerun
        entry = ws.register(f"uploaded {loaded.spec['family']} on {loaded.dataset.name}",
                            loaded.model, loaded.dataset,
                            {**config.get("train_config", {}), "model_spec": loaded.spec},
                            source="upload", family=loaded.spec["family"], metrics=metrics)
        done[digest] = entry.name
    st.success(f"Loaded as **{done[digest]}**, evaluated on the test split of "
               f"{loaded.dataset.name}.")
    cols = st.columns(len(metrics))
    for col, (name, value) in zip(cols, metrics.items()):
        col.metric(f"Test {name}", f"{value:.4f}")


st.title("Runs")
st.markdown("Every training run from the Training lab, the Playground and `nnplay train` is "
            "kept here, with its settings and its curves, so you can compare them.")
try:
    store = runs.RunStore()
except runs.RunStoreError as err:
    st.error(str(err))
    store = None
if store is not None:
    table = runs_table(store)
    if not table.empty:
        st.subheader("Compare curves")
        compare_runs(store, table)
        st.subheader("One run")
        one_run(store, table)
st.subheader("Models")
tab_down, tab_up = st.tabs(["Download a model", "Upload a model"])
with tab_down:
    download_model()
with tab_up:
    upload_model()
