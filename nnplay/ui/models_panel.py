""""Your models": the session's workspace in the sidebar of every page.

Pick a model to pin (never dropped to make room), remove or download it (one zip: weights and
record JSON); upload a model zip (or its weights and .json) to bring a model back, with the CSV
it was trained on when it learned from a file of yours.
"""

from __future__ import annotations

import re

import streamlit as st

from nnplay.models import modelio
from nnplay.ui.workspace import workspace


def file_name(name: str) -> str:
    """A safe download name for a model: 'lab mlp on digits (2)' -> 'lab_mlp_on_digits_2.zip'."""
    return (re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "model")[:80] + ".zip"


def models_panel() -> None:
    """The sidebar panel: list, pin, remove, download and upload models."""
    ws = workspace()
    with st.sidebar.expander(f"Your models ({len(ws)})", icon=":material/inventory_2:"):
        if len(ws):
            st.caption(f"{ws.total_bytes / 2**20:.1f} MiB of weights kept; the oldest unpinned "
                       f"models make room past {ws.budget_bytes / 2**20:.0f} MiB.")
            models = {m.name: m for m in ws.list()}
            labels = {name: ("📌 " if m.pinned else "") + m.label() for name, m in models.items()}
            name = st.selectbox("Model", list(models), key="ws_panel_pick",
                                format_func=labels.get)
            entry = models[name]
            st.caption(f"Made on the {entry.lesson.replace('_', ' ')} page"
                       + (f", run {entry.record.run_id}" if entry.record.run_id else ""))
            c1, c2 = st.columns(2)
            c1.toggle("Pin", value=entry.pinned, key=f"ws_pin_{name}",
                      on_change=lambda: ws.pin(name, st.session_state[f"ws_pin_{name}"]))
            c2.button("Remove", key="ws_remove", on_click=ws.remove, args=(name,))
            st.download_button("Download (zip)", key="ws_download", file_name=file_name(name),
                               mime="application/zip", on_click="ignore",
                               data=lambda: modelio.export_bundle(entry.model, entry.record,
                                                                  entry.dataset))
        else:
            st.caption("Models you train on any page appear here, ready for the evaluation, "
                       "explanation and audit pages.")
        upload_form()


def upload_form() -> None:
    """Upload a model zip (or weights + .json) and, if it learned from a CSV, that CSV."""
    files = st.file_uploader("Upload a model", type=["zip", "json", "safetensors", "pt"],
                             accept_multiple_files=True, key="ws_upload",
                             help="The zip downloaded from nnplay, or its weights and .json files.")
    csv = st.file_uploader("…and its CSV, if it learned from your file", type=["csv"],
                           key="ws_upload_csv")
    if not files or not st.button("Add to your models", key="ws_upload_go"):
        return
    try:
        loaded = load_uploaded(files, csv.getvalue() if csv is not None else None)
    except ValueError as err:
        st.error(f"That model could not be loaded: {err}")
        return
    entry = workspace().add_record(loaded.record, loaded.model, loaded.dataset)
    st.success(f"Added **{entry.name}**.")


def load_uploaded(files, csv: bytes | None):
    """A LoadedModel from uploaded files: one zip, or a .json with a weights file."""
    by_kind = {}
    for f in files:
        suffix = f.name.rsplit(".", 1)[-1].lower()
        by_kind.setdefault("zip" if suffix == "zip" else "json" if suffix == "json"
                           else "weights", f.getvalue())
    if "zip" in by_kind:
        return modelio.load_bundle(by_kind["zip"], csv=csv)
    if "json" in by_kind and "weights" in by_kind:
        return modelio.load_model(by_kind["weights"], by_kind["json"], csv=csv)
    raise ValueError("upload the model's zip, or both its weights file and its .json file.")
