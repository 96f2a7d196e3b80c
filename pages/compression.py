"""Lesson: compression. Quantization (torchao, PT2E, ONNX Runtime) and pruning (unstructured and
structured) of a model from this session, measured in one trade-off table: file size, latency,
throughput, accuracy and the largest output change, with the Pareto front. The measurements run
in the background (nnplay.production.compress.tradeoff); figures from nnplay.plots.compression.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from nnplay.lessons import compression as lesson
from nnplay.plots import compression as cplots
from nnplay.production import compress
from nnplay.train.jobs import Job
from nnplay.ui import cache, state
from nnplay.ui import workspace as ws
from nnplay.ui.jobs import job_panel, job_running, start_job
from nnplay.ui.widgets import device_badge

JOB, TICKET_JOB = "cmp_job", "cmp_ticket_job"
CHART_AXES = {"file size": ("size_kB", "file size (kB)"),
              "latency at batch 1": ("latency_b1", "latency at batch 1 (ms, median)"),
              "latency at batch 64": ("latency_b64", "latency at batch 64 (ms, median)")}


remembered = partial(state.remembered, "cmp_results")   # results for the same model and settings
remember = partial(state.remember, "cmp_results")


def pct(share: float) -> str:
    return f"{share:.0%}"


def spot_data():
    c1, c2 = st.columns(2)
    name = c1.selectbox("Data", lesson.DATASETS, key="cmp_data")
    c2.radio("Network to train", lesson.FAMILIES, horizontal=True, key="cmp_family",
             format_func=str.upper)
    return cache.load_dataset(name)


def pick_model():
    """The session's model to compress, or one trained here in the background."""
    return ws.pick_or_train(
        "cmp", "compression", spot_data, epochs=lesson.spot_epochs, what="a network",
        spec_for=lambda ds: lesson.spot_spec(ds, st.session_state.get("cmp_family", "mlp")))


def settings() -> dict:
    c1, c2, c3 = st.columns(3)
    structured = c1.multiselect("Structured: share of channels removed",
                                lesson.STRUCTURED_CHOICES, default=[0.25, 0.5, 0.75],
                                format_func=pct, key="cmp_structured")
    unstructured = c2.multiselect("Unstructured: share of weights zeroed",
                                  lesson.UNSTRUCTURED_CHOICES, default=[0.5, 0.8, 0.9],
                                  format_func=pct, key="cmp_unstructured")
    epochs = c3.slider("Fine-tune epochs after structured pruning", 0, 5, 2, key="cmp_fine_tune")
    compiled = st.toggle("Also run the PyTorch models through torch.compile: the only way "
                         "PyTorch runs torchao and PT2E int8 as real int8 kernels (adds a "
                         "minute or more of compiling)", key="cmp_compile")
    structured = sorted(structured)
    return {"structured": structured, "unstructured": sorted(unstructured),
            "fine_tune_epochs": int(epochs), "compile": bool(compiled),
            "combined": structured[len(structured) // 2] if structured else None}


def start_measuring(entry, options: dict) -> None:
    start_job(JOB, Job(compress.tradeoff, entry.model, entry.dataset, label="compression",
                       **options),
              result_key=("table", entry.name, options), entry=entry.name)


def finish_measuring(job: dict) -> None:
    worker = job["worker"]
    table = worker.result
    if table is None or table.empty:
        return
    complete = worker.status == "completed"
    remember({"table": table, "complete": complete, "total": worker.total_steps},
             *job["result_key"])
    if complete and job["entry"] in ws.workspace():   # what the model card shows
        ws.workspace().add_finding(job["entry"], "compression", compress.summary(table))


def results_section(result: dict) -> None:
    df = result["table"]
    metric = df.attrs.get("metric", "accuracy")
    if not result["complete"]:
        st.warning(lesson.stopped_text(df, result["total"]))
    tag = st.radio("Latency measured on", ["t1", "tall"], horizontal=True, key="cmp_threads",
                   format_func=lambda t: lesson.threads_label(df, t))
    st.dataframe(lesson.display_table(df, tag), hide_index=True, key="cmp_table",
                 height=35 * (len(df) + 1) + 3)   # every row, no scrolling
    st.caption(f"Sizes: the file that would ship (safetensors, torch.save for int8 tensors, the "
               f".onnx file). Latency: median / 95th percentile of repeated calls after a "
               f"warm-up. {metric.capitalize()} on {df.attrs.get('test_rows', 0):,} test rows.")
    for line in lesson.best_findings(df, tag):
        st.markdown(line)
    axis = st.radio("Chart against", list(CHART_AXES), horizontal=True, key="cmp_axis")
    column, title = CHART_AXES[axis]
    chart = lesson.chart_frame(df, tag)
    front = compress.pareto_front(chart, column, "score")
    st.plotly_chart(cplots.pareto_figure(chart, column, front, title, metric),
                    key="cmp_pareto_fig")
    st.caption("Outlined: the Pareto front, the variants no other variant beats on both axes.")
    st.subheader("What runs as int8 on this CPU")
    for line in lesson.int8_findings(df, tag) or ["No int8 variant applies to this model."]:
        st.markdown(f"- {line}")
    st.subheader("Pruning")
    for line in lesson.pruning_findings(df, tag):
        st.markdown(f"- {line}")


def sparsity_section(entry) -> None:
    ds = entry.dataset
    X, y = ds.X_test[:2000], ds.y_test[:2000]
    curve = remembered("curve", entry.name)
    if curve is None:
        curve = remember(compress.sparsity_curve(entry.model, X, y, ds.task), "curve", entry.name)
    metric = lesson.metric_name(ds.task)
    st.plotly_chart(cplots.sparsity_figure(curve, metric), key="cmp_sparsity_fig")
    st.caption(lesson.sparsity_caption(curve, metric))


def start_ticket(entry) -> None:
    start_job(TICKET_JOB, Job(compress.lottery_ticket, entry.spec, entry.dataset,
                              lesson.LOTTERY_AMOUNT, lesson.LOTTERY_EPOCHS, label="lottery"),
              result_key=("ticket", entry.name), entry=entry.name)


def finish_ticket(job: dict) -> None:
    if job["worker"].status == "completed":
        remember(job["worker"].result, *job["result_key"])


def lottery_section(entry) -> None:
    if not st.toggle("Lottery ticket: rewind the kept weights to their initial values",
                     key="cmp_ticket"):
        return
    st.markdown(lesson.LOTTERY_TEXT)
    st.button("Run the experiment", key="cmp_ticket_go", on_click=start_ticket, args=(entry,),
              disabled=job_running(TICKET_JOB))
    job_panel(TICKET_JOB, finish_ticket, what="Lottery ticket")
    table = remembered("ticket", entry.name)
    if table is not None:
        metric = lesson.metric_name(entry.dataset.task)
        st.plotly_chart(cplots.lottery_figure(table, metric), key="cmp_ticket_fig")
        st.caption(lesson.lottery_caption(table, metric))


def main() -> None:
    st.title("Compression")
    device_badge()
    st.markdown("A trained network can be made smaller and faster: store its weights as 8-bit "
                "integers instead of 32-bit floats (**quantization**), or remove weights "
                "(**pruning**). Every version below is measured on this machine's CPU: its "
                "file, its latency, its accuracy, and how far its outputs moved.")
    entry = pick_model()
    if entry is None:
        return
    st.caption(lesson.model_caption(entry.model, entry.dataset))
    reason = compress.feedforward_reason(entry.model)
    if reason:
        st.info(f"PyTorch's int8 recipes and structured pruning do not apply to this model: "
                f"{reason}. ONNX Runtime's int8 and unstructured pruning still do; the table says "
                "so row by row.")
    options = settings()
    key = ("table", entry.name, options)
    st.button("Measure with these settings", key="cmp_go", on_click=start_measuring,
              args=(entry, options), disabled=job_running(JOB), type="primary")
    if remembered(*key) is None and not job_running(JOB) and \
            st.session_state.get("cmp_auto") != entry.name:
        st.session_state["cmp_auto"] = entry.name     # once per model: then the button
        start_measuring(entry, options)
    job_panel(JOB, finish_measuring, what="Measuring")
    result = remembered(*key)
    if result is None:
        st.info("Press **Measure with these settings** to build and time every variant.")
    else:
        results_section(result)
    st.subheader("Unstructured pruning, step by step")
    sparsity_section(entry)
    lottery_section(entry)


try:
    main()
except ValueError as err:
    st.error(f"That setting could not be used: {err}")
