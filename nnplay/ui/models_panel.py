""""Your models": the session's workspace in the sidebar of every page (and on the Runs page).

Pick a model to pin (never dropped to make room), remove or download it (one zip: weights and
record JSON); upload a model zip (or its weights and .json) to bring a model back, with the CSV
it was trained on when it learned from a file of yours. Nothing in an upload runs as code.
"""

from __future__ import annotations

import hashlib
import re

import streamlit as st

from nnplay.ui.workspace import workspace

UPLOADED = "nnplay_uploaded_models"   # file digest -> the workspace name it was added as


def file_name(name: str) -> str:
    """A safe download name for a model: 'lab mlp on digits (2)' -> 'lab_mlp_on_digits_2.zip'."""
    return (re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "model")[:80] + ".zip"


def models_panel() -> None:
    """The sidebar panel: list, pin, remove, download and upload models."""
    with st.sidebar.expander(f"Your models ({len(workspace())})", icon=":material/inventory_2:"):
        model_actions("ws")
        model_upload("ws")


def model_actions(key: str) -> None:
    """Pick one of the session's models: pin it, remove it, or download it as one zip."""
    from nnplay.models import modelio

    ws = workspace()
    if not len(ws):
        st.caption("Models you train on any page appear here, ready for the evaluation, "
                   "explanation and audit pages.")
        return
    st.caption(f"{ws.total_bytes / 2**20:.1f} MiB of weights kept; the oldest unpinned models "
               f"make room past {ws.budget_bytes / 2**20:.0f} MiB.")
    models = {m.name: m for m in ws.list()}
    labels = {name: ("📌 " if m.pinned else "") + m.label() for name, m in models.items()}
    name = st.selectbox("Model", list(models), key=f"{key}_pick", format_func=labels.get)
    entry = models[name]
    st.caption(f"Made on the {entry.lesson.replace('_', ' ')} page"
               + (f", run {entry.record.run_id}" if entry.record.run_id else ""))
    c1, c2 = st.columns(2)
    c1.toggle("Pin", value=entry.pinned, key=f"{key}_pin_{name}",
              on_change=lambda: ws.pin(name, st.session_state[f"{key}_pin_{name}"]))
    c2.button("Remove", key=f"{key}_remove", on_click=ws.remove, args=(name,))
    st.download_button("Download (zip)", key=f"{key}_download", file_name=file_name(name),
                       mime="application/zip", on_click="ignore",
                       data=lambda: modelio.export_bundle(entry.model, entry.record,
                                                          entry.dataset))


def model_upload(key: str) -> None:
    """Upload a model zip (or weights + .json) and, if it learned from a CSV, that CSV; the model
    is evaluated on its test split and joins the session once per upload."""
    files = st.file_uploader("Upload a model", type=["zip", "json", "safetensors", "pt", "pth"],
                             accept_multiple_files=True, key=f"{key}_upload",
                             help="The zip downloaded from nnplay, or its weights and .json files.")
    csv = st.file_uploader("…and its CSV, if it learned from your file", type=["csv"],
                           key=f"{key}_upload_csv")
    if not files:
        return
    raw = {f.name: f.getvalue() for f in files}
    csv_bytes = csv.getvalue() if csv is not None else None
    digest = hashlib.sha256(b"\0".join([*(raw[n] for n in sorted(raw)), csv_bytes or b""]))
    digest = digest.hexdigest()
    done = st.session_state.setdefault(UPLOADED, {})
    if digest not in done or done[digest] not in workspace():
        try:
            loaded = load_uploaded(raw, csv_bytes)
            entry = workspace().add_record(loaded.record, loaded.model, loaded.dataset)
        except ValueError as err:   # a bad or hostile file, or a full workspace: say what
            st.error(f"That model could not be loaded: {err}")
            return
        done[digest] = entry.name
    entry = workspace().get(done[digest])
    st.success(f"**{entry.name}** is in your models, evaluated on the test split of "
               f"{entry.dataset.name}.")
    show_test_metrics(entry)


def show_test_metrics(entry) -> None:
    from nnplay.train import evaluate

    metrics = evaluate(entry.model, entry.dataset)
    cols = st.columns(len(metrics))
    for col, (name, value) in zip(cols, metrics.items(), strict=True):
        col.metric(f"Test {name}", f"{value:.4f}")


def load_uploaded(files: dict[str, bytes], csv: bytes | None):
    """A LoadedModel from uploaded files (name -> bytes): one zip, or a .json and a weights file."""
    from nnplay.models import modelio

    by_kind: dict[str, bytes] = {}
    for name, data in files.items():
        suffix = name.rsplit(".", 1)[-1].lower()
        by_kind["zip" if suffix == "zip" else "json" if suffix == "json" else "weights"] = data
    if "zip" in by_kind:
        return modelio.load_bundle(by_kind["zip"], csv=csv)
    if "json" in by_kind and "weights" in by_kind:
        return modelio.load_model(by_kind["weights"], by_kind["json"], csv=csv)
    raise ValueError("upload the model's zip, or both its weights file and its .json file.")
