"""Lesson: choosing an architecture. Which network suits which kind of data, applied to any
dataset of the app, and a live race of an MLP against a CNN on the same digits (parameters,
accuracy, seconds), with a pixel-shuffle switch that shows where the CNN's advantage comes from.
"""

from __future__ import annotations

import streamlit as st

from nnplay.lessons import architectures as archcompare
from nnplay.models import build_model, summary
from nnplay.plots import architectures as plots
from nnplay.train.jobs import Job
from nnplay.train.workspace import input_kind
from nnplay.ui import cache, widgets
from nnplay.ui import workspace as ws
from nnplay.ui.jobs import job_panel, job_running, start_job
from nnplay.ui.state import user_errors

JOB, RACES = "arch_job", "arch_races"
HIDDEN = {"64": [64], "128": [128], "256, 128": [256, 128]}
CHANNELS = {"8, 16": [8, 16], "16, 32": [16, 32], "32, 64": [32, 64]}


def guide_section() -> None:
    st.dataframe(archcompare.guide_table(), hide_index=True, key="arch_guide")
    ds = widgets.dataset_picker("arch_fit", kinds=("toy", "real", "sequence"), allow_upload=False,
                                default=archcompare.RACE_DATASETS[0])
    if ds is None:
        return
    families = archcompare.suggest_families(ds)
    st.markdown(f"**{ds.name}**: examples shaped {ds.input_shape} ({input_kind(ds)} data, "
                f"{ds.task}). Start with **{families[0]}**"
                + (f"; also worth a try: {', '.join(families[1:])}." if families[1:] else "."))


def default_index(options: dict, value) -> int:
    return list(options.values()).index(list(value))


def race_settings() -> tuple:
    c1, c2, c3, c4 = st.columns(4)
    name = c1.selectbox("Dataset", archcompare.RACE_DATASETS, key="arch_dataset",
                        help="mnist5k: 5,000 real 28x28 digits. digits: 8x8 images, too few pixels "
                             "for kernels to find much; there an MLP keeps up or wins.")
    hidden = HIDDEN[c2.selectbox("MLP hidden layers", list(HIDDEN), key="arch_hidden",
                                 index=default_index(HIDDEN, archcompare.DEFAULT_MLP_HIDDEN))]
    channels = CHANNELS[c3.selectbox("CNN channels", list(CHANNELS), key="arch_channels",
                                     index=default_index(CHANNELS,
                                                         archcompare.DEFAULT_CNN_CHANNELS))]
    epochs = int(c4.number_input("Epochs (each)", 1, 100, archcompare.DEFAULT_EPOCHS,
                                 key="arch_epochs"))
    c1, c2 = st.columns(2)
    shuffled = c1.checkbox("Shuffle the pixels (same shuffle for every image)", key="arch_shuffle",
                           help="Neighbouring pixels are no longer neighbours. An MLP never used "
                                "that; a CNN's kernels depend on it.")
    seed = int(c2.number_input("Seed", 0, 10_000, 0, key="arch_seed"))
    race = archcompare.ArchRace(mlp_hidden=hidden, cnn_channels=channels, epochs=epochs,
                                shuffle_pixels=shuffled, seed=seed)
    return race, cache.load_dataset(name)


def start_race(race: archcompare.ArchRace, ds) -> None:
    start_job(JOB, Job(race.fit, ds, label="race"), race=race)


def finish_race(job: dict) -> None:
    """Once: keep the race's numbers for the comparison and add both models to the session."""
    worker = job["worker"]
    if worker.status != "completed":
        return
    race = worker.result
    races = st.session_state.setdefault(RACES, [])
    label = f"race {len(races) // 2 + 1}: {race.dataset_.name}, {race.epochs} epochs"
    for family, row in race.results_.iterrows():   # one group: they leave the session together
        ws.register(race.trainers_[family], lesson="architectures", spec=race.specs_[family],
                    name=f"{family} {label}", group=label,
                    metrics={"accuracy": row["test_accuracy"]})
        races.append(
            {"run": label, "family": family, "params": int(row["params"]),
             "test_accuracy": float(row["test_accuracy"]),
             "train_seconds": float(row["train_seconds"])})


def race_section() -> None:
    st.markdown("Both networks see the same images, train with the same optimizer, learning "
                "rate and schedule, batches and epochs, one after the other on this machine. "
                "With the settings it starts with (mnist5k's 28x28 digits) the CNN's small "
                "kernels find strokes wherever they are: it scores higher on every seed from 0 "
                "to 4, with about half the MLP's parameters.")
    with user_errors("These settings"):
        race, ds = race_settings()
        specs = race.model_specs()
        left, right = st.columns(2)
        for col, family in ((left, "mlp"), (right, "cnn")):
            table = summary(build_model(specs[family], ds), ds.input_shape)
            col.markdown(f"**{family.upper()}**: {table.attrs['total_params']:,} parameters, "
                         f"{table.attrs['total_macs']:,} multiply-accumulates per image")
            col.dataframe(table, hide_index=True, key=f"arch_summary_{family}")
        st.button("Race them", type="primary", key="arch_race", on_click=start_race,
                  args=(race, ds), disabled=job_running(JOB))
    done = job_panel(JOB, finish_race, what="Race")
    if done is not None and done["worker"].status == "completed":
        results = done["worker"].result.results_
        cols = st.columns(len(results))
        for col, (family, row) in zip(cols, results.iterrows(), strict=True):
            col.metric(f"{family.upper()} test accuracy", f"{row['test_accuracy']:.3f}")
            col.caption(f"{row['params']:,} parameters, {row['train_seconds']:.1f} s for "
                        f"{row['epochs']} epochs")
        st.markdown(done["worker"].result.verdict())
    races = st.session_state.get(RACES, [])
    if races:
        st.plotly_chart(plots.arch_race_figure(races), key="arch_race_fig")
        st.caption("Every race of this session. Run the same race with shuffled pixels: the MLP "
                   "scores about the same (it never knew which pixels were neighbours), the CNN "
                   "drops several points and falls behind it, its kernels' neighbourhoods gone.")


st.title("Choosing an architecture")
widgets.device_badge()
st.subheader("Which network for which data")
guide_section()
st.subheader("See it: MLP against CNN on the same digits")
race_section()
