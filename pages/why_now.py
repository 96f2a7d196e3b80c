"""Lesson: Why neural networks now. The ideas are decades old; what changed is data, hardware and
algorithms. Each cause is an experiment run here, on this machine: accuracy against training-set
size for a linear model and a network, matrix products and training speed on one thread, all
threads and the GPU, and a deep network trained with the 1990s recipe against the 2015 one.
"""

from __future__ import annotations

import streamlit as st

from nnplay.lessons import why_now as lesson
from nnplay.plots import why_now as plots
from nnplay.train.jobs import Job
from nnplay.ui import cache, widgets
from nnplay.ui.jobs import job_panel, job_running, start_job
from nnplay.ui.state import user_errors

RESULTS = "why_now_results"     # section -> the fitted experiment, kept across page visits
JOBS = {"data": "why_data_job", "hardware": "why_hardware_job", "algorithms": "why_algo_job"}
SIZE_CHOICES = (30, 100, 300, 1000, 2000, 3750)


def results() -> dict:
    return st.session_state.setdefault(RESULTS, {})


def start(section: str, experiment, dataset) -> None:
    start_job(JOBS[section], Job(experiment.fit, dataset, label=f"why now: {section}"))


def keeper(section: str):
    """on_finish for a section's job: keep what it measured (a stopped job keeps what finished)."""
    def keep(job: dict) -> None:
        if job["worker"].result is not None:
            results()[section] = job["worker"].result
    return keep


def data_section() -> None:
    st.markdown("A linear model (logistic regression, which is a network with no hidden layer) "
                "and a network with one hidden layer of 256 units learn handwritten digits "
                "from more and more examples. Both get the same number of optimizer steps at "
                "every size, so more data does not buy more compute.")
    ds = cache.load_dataset(lesson.DATASET)
    c1, c2, c3 = st.columns(3)
    sizes = c1.multiselect("Training images", SIZE_CHOICES, default=list(lesson.SIZES),
                           key="why_sizes")
    steps = c2.select_slider("Optimizer steps per model", (50, 100, 300, 600, 1000),
                             value=lesson.STEPS, key="why_steps")
    seed = int(c3.number_input("Seed", 0, 10_000, 0, key="why_data_seed"))
    with user_errors("These settings"):
        experiment = lesson.DataScaling(sizes=sizes, seeds=(seed,), steps=steps)
        experiment.check(ds)
        st.button("Run the data experiment", type="primary", key="why_data_run",
                  on_click=start, args=("data", experiment, ds),
                  disabled=job_running(JOBS["data"]))
    job_panel(JOBS["data"], keeper("data"), what="Data experiment")
    done = results().get("data")
    if done is not None and len(done.results_):
        st.plotly_chart(plots.data_scaling_figure(done.results_), key="why_data_fig")
        st.markdown(done.verdict())
        st.caption(f"Test accuracy on all {ds.n_test:,} test images of {ds.name}; "
                   "tests/lessons/test_why_now.py checks over several seeds that the network "
                   "gains more from the extra data than the linear model.")


def hardware_section() -> None:
    st.markdown("Training is mostly multiplying matrices. The same product, and the same "
                "network's training, on one CPU thread, on every thread of this machine, and on "
                "its GPU when it has one:")
    ds = cache.load_dataset(lesson.DATASET)
    bench = lesson.HardwareBench()
    if "hardware" not in results() and JOBS["hardware"] not in st.session_state:
        start("hardware", bench, ds)          # measured on the first visit: a few seconds
    st.button("Measure again", key="why_hw_run", on_click=start, args=("hardware", bench, ds),
              disabled=job_running(JOBS["hardware"]))
    job_panel(JOBS["hardware"], keeper("hardware"), what="Measuring")
    done = results().get("hardware")
    if done is not None and len(done.results_):
        st.plotly_chart(plots.hardware_figure(done.results_), key="why_hw_fig")
        st.markdown(done.verdict())
        for note in done.caveats():
            st.caption(note)


def algorithms_section() -> None:
    st.markdown("The same deep network on the 8x8 digits, trained two ways. The **1990s "
                "recipe**: sigmoid units, plain SGD, weights drawn from N(0, 1). The **2015 "
                "recipe**: ReLU units, Adam, Kaiming initialisation (weights scaled to each "
                "layer's width). Each also runs with **batch normalisation** after every layer. "
                "Same data, same epochs, same batches, same seed.")
    ds = cache.load_dataset(lesson.DIGITS)
    c1, c2, c3 = st.columns(3)
    depth = c1.slider("Hidden layers", 2, 16, lesson.DEPTH, key="why_depth")
    epochs = int(c2.number_input("Epochs", 1, 200, lesson.RECIPE_EPOCHS, key="why_epochs"))
    seed = int(c3.number_input("Seed", 0, 10_000, 0, key="why_algo_seed"))
    with user_errors("These settings"):
        race = lesson.RecipeRace(depth=depth, epochs=epochs, seed=seed)
        race.check()
        st.button("Train the four networks", type="primary", key="why_algo_run",
                  on_click=start, args=("algorithms", race, ds),
                  disabled=job_running(JOBS["algorithms"]))
    job_panel(JOBS["algorithms"], keeper("algorithms"), what="Training")
    done = results().get("algorithms")
    if done is not None and done.histories_:
        st.plotly_chart(plots.recipes_figure(done.histories_), key="why_algo_fig")
        st.markdown(done.verdict())
        st.caption("Solid lines: without normalisation; dotted: with BatchNorm. "
                   "tests/lessons/test_why_now.py checks over seeds that the 2015 recipe beats "
                   "the 1990s one and that BatchNorm lifts the 1990s recipe.")


st.title("Why neural networks now")
widgets.device_badge()
st.markdown("Perceptrons (Rosenblatt, 1958) and backpropagation (Rumelhart, Hinton and "
            "Williams, 1986) are old ideas. Neural networks took over much later, when three "
            "things came together: **data** to learn from, **hardware** that multiplies "
            "matrices fast, and **algorithms** that let deep networks train. Each is measured "
            "below, on this machine.")
st.subheader("1. Data: networks keep learning from more examples")
data_section()
st.subheader("2. Hardware: parallel arithmetic")
hardware_section()
st.subheader("3. Algorithms: deep networks that train")
algorithms_section()
