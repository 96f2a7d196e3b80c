"""Lab: transfer learning. A pretrained network's ImageNet guesses on photos, then its features
on a new task (Fashion-MNIST, your own zip of images, or digits 0-4 -> 5-9 offline) against a CNN
trained from scratch, by labelled images per class. Numbers from nnplay.lessons.lab_transfer
(run in the background), figures from nnplay.plots.lab_transfer.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from nnplay.data.images import MIN_PER_CLASS
from nnplay.lessons import lab_transfer as lesson
from nnplay.models import modelio, pretrained
from nnplay.plots import lab_transfer as tplots
from nnplay.train.jobs import Job
from nnplay.ui import workspace as ws
from nnplay.ui.jobs import job_panel, job_running, start_job
from nnplay.ui.models_panel import file_name
from nnplay.ui.widgets import device_badge

JOB, RESULT = "lt_job", "lt_result"
UPLOAD_PHOTO = "Upload a photo..."
PHOTO_TYPES = ["jpg", "jpeg", "png", "bmp", "gif", "webp"]
BACKBONE_TITLES = {name: info.title for name, info in pretrained.BACKBONES.items()}


def use_offline_backbone(key: str) -> None:
    st.session_state[key] = "efficientnet_lite0"


def backbone_ready(name: str, key: str) -> bool:
    """True when the backbone's weights are here; otherwise what is missing and a way out."""
    if pretrained.weights_available(name):
        return True
    st.warning(pretrained.missing_weights_message(name))
    st.button("Use EfficientNet-Lite0 (offline)", key=f"{key}_offline",
              on_click=use_offline_backbone, args=(key,))
    return False


@st.cache_data(max_entries=32, show_spinner="Asking the pretrained network...")
def top5(photo_key: str, photo, backbone: str) -> list[tuple[str, float]]:
    return pretrained.predict_image(photo, k=5, backbone=backbone)


def pretrained_section() -> None:
    st.header("1. What a pretrained network already knows")
    c1, c2 = st.columns(2)
    backbone = c1.radio("Network", ["efficientnet_lite0", "resnet18"], horizontal=True,
                        format_func=BACKBONE_TITLES.get, key="lt_photo_backbone")
    choice = c2.selectbox("Photo", [*lesson.SAMPLE_PHOTOS, UPLOAD_PHOTO], key="lt_photo")
    if not backbone_ready(backbone, "lt_photo_backbone"):
        return
    if choice == UPLOAD_PHOTO:
        up = st.file_uploader("Your photo", type=PHOTO_TYPES, key="lt_photo_file")
        if up is None:
            st.info("Upload a photo (jpg, png, ...) to see what the network makes of it.")
            return
        raw = up.getvalue()
        try:
            photo, key = pretrained.photo_array(raw), hashlib.sha256(raw).hexdigest()
        except ValueError as err:
            st.error(f"That photo cannot be used: {err}")
            return
    else:
        photo, key = lesson.sample_photo(choice), choice
    predictions = top5(key, photo, backbone)
    left, right = st.columns([2, 3])
    left.image(photo, caption=f"{BACKBONE_TITLES[backbone]} reads it resized to 224x224",
               width="stretch")
    right.plotly_chart(tplots.top_k_figure(predictions), key="lt_top5_fig")
    st.caption(lesson.prediction_sentence(predictions))


@st.cache_data(max_entries=4, show_spinner="Loading the images...")
def task_data(name: str, max_per_class: int):
    return lesson.load_task(name, max_per_class)


def zip_data():
    up = st.file_uploader("A zip with one folder per class (cats/, dogs/, ...)", type=["zip"],
                          key="lt_zip")
    if up is None:
        st.info(f"Upload a zip of your images, one folder per class, at least {MIN_PER_CLASS} "
                "images per class. Nothing in it is run or unpacked to disk.")
        return None
    raw = up.getvalue()
    digest = hashlib.sha256(raw).hexdigest()
    kept = st.session_state.get("lt_zip_data")
    if not kept or kept[0] != digest:   # one person's data: kept in their session only
        try:
            kept = (digest, lesson.load_task("zip", zip_bytes=raw)[0])
        except ValueError as err:
            st.error(f"This zip cannot be used: {err}")
            return None
        st.session_state["lt_zip_data"] = kept
    return kept[1]


def task_section():
    st.header("2. Transfer to a new task")
    task = st.radio("New task", list(lesson.TASKS), format_func=lesson.TASKS.get,
                    key="lt_task")
    counts = st.multiselect("Labelled images per class", [1, 2, 5, 10, 20, 50, 100, 200],
                            default=list(lesson.PER_CLASS), key="lt_counts")
    if task == "zip":
        ds = zip_data()
    else:
        ds, notice = task_data(task, max(counts or [10]))
        if notice:
            st.info(notice)
    if ds is None:
        return None
    st.caption(f"{ds.n_train:,} training and {ds.n_test:,} test images in {ds.n_outputs} "
               f"classes, shaped {' x '.join(map(str, ds.input_shape))}.")
    st.plotly_chart(tplots.examples_figure(ds.X_train, ds.y_train, ds.class_names),
                    key="lt_examples_fig")
    return ds, counts


def settings(ds) -> dict | None:
    default = lesson.default_backbone(ds)
    if st.session_state.get("lt_backbone_for") != ds.name:   # new data: its natural backbone
        st.session_state["lt_backbone"], st.session_state["lt_backbone_for"] = default, ds.name
    c1, c2, c3 = st.columns(3)
    backbone = c1.selectbox("Pretrained network", list(pretrained.BACKBONES),
                            format_func=BACKBONE_TITLES.get, key="lt_backbone")
    seeds = c2.slider("Seeds per point", 1, 3, 1, key="lt_seeds")
    resolution = None
    if backbone != "nnplay_cnn":
        resolution = c3.select_slider("Input size (pixels)", [32, 64, 96, 128],
                                      value=pretrained.BACKBONES[backbone].resolution,
                                      key="lt_resolution")
    modes = st.multiselect("Ways to train", list(lesson.MODE_LABELS),
                           default=list(lesson.default_modes(backbone)),
                           format_func=lesson.MODE_LABELS.get, key=f"lt_modes_{backbone}")
    st.caption(lesson.MODE_HELP)
    if not backbone_ready(backbone, "lt_backbone"):
        return None
    return {"backbone": backbone, "modes": modes, "seeds": tuple(range(seeds)),
            "resolution": resolution}


def start_curve(ds, counts, options) -> None:
    experiment = lesson.TransferExperiment(ds, per_class=counts, **options)
    start_job(JOB, Job(experiment.fit, label="transfer curve"),
              task=lesson.TASKS.get(ds.name, ds.name))


def finish_curve(job: dict) -> None:
    experiment = job["worker"].result
    if experiment is None or not getattr(experiment, "rows_", None):
        return
    group = f"lab_transfer {len(ws.workspace())}"
    names = []
    for result in experiment.results_.values():
        entry = ws.register(lesson="lab_transfer", spec=result.spec, model=result.model,
                            dataset=result.dataset, name=f"lab_transfer {result.name}",
                            group=group, metrics=result.metrics)
        if entry is not None:
            names.append(entry.name)
    st.session_state[RESULT] = {"table": experiment.table_, "task": job["task"],
                                "notes": experiment.notes_, "models": names,
                                "timing": lesson.timing_sentence(experiment),
                                "stopped": job["worker"].status == "stopped"}


def results_section() -> None:
    kept = st.session_state.get(RESULT)
    if not kept:
        st.info("Choose the ways to train and press Start: the curve appears here.")
        return
    table = kept["table"]
    st.subheader(f"3. What the curve shows: {kept['task']}")
    if kept["stopped"]:
        st.warning("Stopped: the curve shows the runs that finished.")
    st.plotly_chart(tplots.transfer_curve_figure(lesson.summary(table), lesson.MODE_LABELS),
                    key="lt_curve_fig")
    sentences = [*lesson.curve_findings(table), *kept["notes"], kept["timing"]]
    st.markdown("\n".join(f"- {sentence}" for sentence in sentences if sentence))
    shown = table.assign(test_accuracy=table["test_accuracy"].map("{:.1%}".format),
                         train_seconds=table["train_seconds"].map("{:.1f}".format))
    st.dataframe(pd.DataFrame({"way to train": shown["mode_label"],
                               "per class": shown["per_class"], "images": shown["n_train"],
                               "seed": shown["seed"], "test accuracy": shown["test_accuracy"],
                               "seconds": shown["train_seconds"], "epochs": shown["epochs"]}),
                 hide_index=True)
    models = [n for n in kept["models"] if n in ws.workspace()]
    if models:
        st.caption("The models trained on the most labels joined your models (the evaluate, "
                   "explain and robustness pages can pick them):")
        for i, name in enumerate(models):
            entry = ws.workspace().get(name)
            st.download_button(f"Download {name}", key=f"lt_download_{i}", mime="application/zip",
                               file_name=file_name(name), on_click="ignore",
                               data=lambda e=entry: modelio.export_bundle(e.model, e.record,
                                                                          e.dataset))


def main() -> None:
    st.title("Lab: transfer learning")
    device_badge()
    st.markdown("A network trained on a million photos has learned edges, textures and shapes "
                "that help on a new task with few labels. Reuse it and compare with training "
                "from scratch, by the number of labelled images per class.")
    pretrained_section()
    picked = task_section()
    if picked is not None:
        ds, counts = picked
        options = settings(ds)
        if options is not None:
            st.button("Start", key="lt_start", type="primary", disabled=job_running(JOB)
                      or not counts or not options["modes"],
                      on_click=start_curve, args=(ds, counts, options))
    job_panel(JOB, finish_curve, what="Transfer curve")
    results_section()


try:
    main()
except ValueError as err:
    st.error(f"That could not be used: {err}")
