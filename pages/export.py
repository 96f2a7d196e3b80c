"""Lesson: export. A model from this session leaves Python as an ONNX file and a torch.export
.pt2, each loaded back and checked against PyTorch; its weights and a model card (Mitchell et al.
2019) go with it. Exports come from nnplay.production.export, the card from
nnplay.production.card, the figure from nnplay.plots.export.
"""

from __future__ import annotations

import streamlit as st

from nnplay.lessons import export as lesson
from nnplay.models import modelio
from nnplay.plots import export as eplots
from nnplay.production import card, export
from nnplay.ui import workspace as ws
from nnplay.ui.widgets import dataset_picker, device_badge

RESULTS = "export_results"   # model -> its exports and test metrics, kept across pages


def remembered(entry) -> dict:
    """This model's slow results, computed once per session (keyed by name and creation time);
    those of models no longer in the workspace are let go."""
    kept = st.session_state.setdefault(RESULTS, {})
    alive = {f"{m.name}|{m.record.created}" for m in ws.workspace().list()}
    for key in [k for k in kept if k not in alive]:
        del kept[key]
    return kept.setdefault(f"{entry.name}|{entry.record.created}", {})


def training_data():
    return dataset_picker("export_data", kinds=("real", "toy", "sequence"),
                          default=lesson.DEFAULT_DATASET)


def choose_model():
    return ws.pick_or_train("export", "export", training_data, spec_for=lesson.spec_for,
                            epochs=lesson.EPOCHS, what="a network")


def exports_of(entry) -> dict:
    done = remembered(entry)
    if "exports" not in done:
        with st.spinner("Exporting to ONNX and torch.export, then running both files against "
                        "PyTorch..."):
            done["exports"] = lesson.export_all(entry.model, entry.dataset)
        ws.workspace().add_finding(entry.name, "export", lesson.export_finding(done["exports"]))
    return done["exports"]


def format_column(column, fmt: str, result, entry) -> None:
    column.subheader(lesson.FORMAT_TITLES[fmt])
    if isinstance(result, str):
        column.warning(result)
        return
    m1, m2 = column.columns(2)
    m1.metric("File size", f"{result.size_bytes / 1000:,.1f} kB")
    m2.metric("Largest difference from PyTorch", export.difference_text(result.max_abs_diff))
    sizes = ", ".join(str(c["batch"]) for c in result.checks)
    text = (f"Loaded back from its bytes and run on test rows at batch sizes {sizes} (exported "
            f"with {result.export_batch}): every output within {result.tolerance:g} of PyTorch.")
    (column.success if result.verified else column.error)(
        text if result.verified else f"Verification failed: the largest difference is "
                                     f"{result.max_abs_diff:.1e}, above {result.tolerance:g}.")
    column.download_button(f"Download {lesson.FORMAT_TITLES[fmt]}", result.data,
                           file_name=lesson.file_stem(entry.name) + result.suffix,
                           mime=result.mime, key=f"export_dl_{fmt}", on_click="ignore")
    with column.expander("Run it without nnplay"):
        st.code(lesson.usage_code(fmt, entry.dataset), language="python")


def export_section(entry) -> None:
    st.header("1. Export and verify")
    st.markdown("Both exports trace the network with `torch.export` into a graph of tensor "
                "operations with the batch dimension left open. The graph either becomes an "
                "**ONNX** file (ONNX Runtime runs it in C++, C#, Java, a browser or a phone) or "
                "is saved as a **.pt2** file that PyTorch loads without the model's Python code.")
    st.info(lesson.TORCHSCRIPT_NOTE)
    results = exports_of(entry)
    for column, (fmt, result) in zip(st.columns(2), results.items()):
        format_column(column, fmt, result, entry)
    weights = modelio.weights_bytes(entry.model)
    st.plotly_chart(eplots.file_sizes_figure(lesson.sizes(results, len(weights))),
                    key="export_sizes_fig")
    st.header("2. Weights")
    st.markdown("The weights alone are a **safetensors** file (tensors only, safe to open); "
                "the nnplay zip adds the model's record, so the sidebar's *Your models* can "
                "load it again.")
    c1, c2 = st.columns(2)
    c1.download_button("Download the weights (safetensors)", weights,
                       file_name=lesson.file_stem(entry.name) + ".safetensors",
                       mime="application/octet-stream", key="export_dl_weights",
                       on_click="ignore")
    c2.download_button("Download the nnplay model (zip)",
                       modelio.export_bundle(entry.model, entry.record, entry.dataset),
                       file_name=lesson.file_stem(entry.name) + ".zip", mime="application/zip",
                       key="export_dl_bundle", on_click="ignore")


def card_section(entry) -> None:
    st.header("3. Model card")
    st.markdown("A model card (Mitchell et al., 2019) says what the model is, what it was "
                "trained and tested on, how it did for each group and under damage, and where "
                "it should not be used. It is filled in from everything measured on this "
                "model in this session; run the Bias audit, Robustness and Compression lessons "
                "on it to complete it.")
    c1, c2 = st.columns([1, 3])
    license_id = c1.selectbox("License", card.LICENSES, key="export_license")
    use = c2.text_input("Intended use, in your words (optional)", key="export_use",
                        max_chars=300)
    done = remembered(entry)
    if "metrics" not in done:
        try:
            done["metrics"], done["metrics_error"] = card.test_metrics(entry.model,
                                                                       entry.dataset), ""
        except ValueError as err:
            done["metrics"], done["metrics_error"] = {}, str(err)
    if done["metrics_error"]:
        st.warning(done["metrics_error"])
    text = card.model_card(entry, metrics=done["metrics"], license=license_id, intended_use=use)
    st.download_button("Download the model card (Markdown)", text.encode(),
                       file_name=lesson.file_stem(entry.name) + "_card.md",
                       mime="text/markdown", key="export_dl_card", on_click="ignore")
    header, body = card.split_card(text)
    st.caption("The Hugging Face metadata at the top of the file:")
    st.code(header, language="yaml")
    with st.container(border=True):
        st.markdown(body)   # every name in it is escaped by nnplay.production.card


def main() -> None:
    st.title("Export")
    device_badge()
    st.markdown("A trained network is only useful once it runs somewhere else. Export it, "
                "**prove** the exported file computes what PyTorch computes, and write down "
                "what the model is for in a model card.")
    entry = choose_model()
    if entry is None:
        return
    export_section(entry)
    card_section(entry)


try:
    main()
except ValueError as err:
    st.error(f"That could not be done: {err}")
