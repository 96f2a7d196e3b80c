"""Shared widgets: device badge, dataset picker (bundled or uploaded CSV)."""

from __future__ import annotations

import streamlit as st

from nnplay import data
from nnplay.data.dataset import Dataset
from nnplay.device import device_name
from nnplay.ui import cache

UPLOAD = "Upload a CSV..."


@st.cache_resource
def _device_label() -> str:
    return device_name("auto")


def device_badge() -> str:
    """Show the compute device in use (CPU or the GPU's name); returns its label."""
    label = _device_label()
    st.badge(f"Running on {label}", icon=":material/memory:", color="green" if label != "CPU" else "gray")
    return label


def dataset_picker(key: str, kinds: tuple[str, ...] = ("toy", "real"), tasks: tuple[str, ...] | None = None,
                   allow_upload: bool = True, default: str | None = None, **params) -> Dataset | None:
    """A selectbox over the registry (plus an upload option); returns the loaded Dataset or None.

    Errors a person can fix (a broken CSV, a bad setting) are shown with st.error, and None is
    returned so the page keeps running.
    """
    infos = [i for i in data.list_datasets() if i.kind in kinds and (tasks is None or i.task in tasks)]
    names = [i.name for i in infos] + ([UPLOAD] if allow_upload else [])
    index = names.index(default) if default in names else 0
    choice = st.selectbox("Dataset", names, index=index, key=f"{key}_dataset",
                          format_func=lambda n: n if n == UPLOAD else f"{n} ({_info(infos, n).task})")
    if choice == UPLOAD:
        return csv_upload(key)
    st.caption(_info(infos, choice).description)
    try:
        return cache.load_dataset(choice, **params)
    except ValueError as err:
        st.error(f"Could not load {choice}: {err}")
        return None


def _info(infos, name):
    return next(i for i in infos if i.name == name)


def csv_upload(key: str) -> Dataset | None:
    """Upload a CSV, pick the target column and task; shows every preprocessing step taken."""
    up = st.file_uploader("CSV file", type=["csv"], key=f"{key}_csv")
    if up is None:
        st.info("Upload a CSV with one row per example and a column to predict.")
        return None
    raw = up.getvalue()
    try:
        preview = data.inspect_csv(raw)
    except ValueError as err:
        st.error(f"This file cannot be used: {err}")
        return None
    cols = list(preview.columns)
    target = st.selectbox("Column to predict", cols, index=cols.index(preview.suggested_target)
                          if preview.suggested_target in cols else len(cols) - 1, key=f"{key}_target")
    task = st.radio("Task", ["auto", "classification", "regression"], horizontal=True, key=f"{key}_task")
    try:
        ds = cache.dataset_from_csv(raw, target, None if task == "auto" else task)
    except ValueError as err:
        st.error(f"This file cannot be used: {err}")
        return None
    with st.expander(f"How the file was prepared ({ds.n_train} train / {ds.n_test} test rows)"):
        for step in ds.extra.get("preprocessing", []):
            st.text(f"- {step}")
    return ds


def clamped_slider(where, label: str, low: int, high: int, key: str, **kw) -> int:
    """A whole-number slider whose kept value (st.session_state[key]) is first put inside
    [low, high] (a range that follows the data); with nothing to choose, the one value is said,
    not offered."""
    value = min(max(int(st.session_state.get(key, low)), low), high)
    st.session_state[key] = value
    if low >= high:
        where.caption(f"{label}: {high}")
        return high
    return where.slider(label, low, high, key=key, **kw)
