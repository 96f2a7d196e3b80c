"""Background work on a page: start a job, poll it in a fragment, handle its end once.

A job is a nnplay.train.jobs.Job (one model's training, a race, a k-fold comparison) kept in
st.session_state under a key, with the page's own notes beside it: {"worker": Job, ...notes}.
``job_panel`` draws a progress bar and a Stop button while it runs (polled every half second, the
thread never touches Streamlit), then calls the page's ``on_finish(job)`` exactly once and reruns
the page. ``worker_progress`` does the same for a Job kept bare under its key.

``start_job`` hands the job to nnplay.train.executor: on a laptop it starts at once in a thread, as
it always did; on a workshop server it may wait its turn (the bar says its place) and a training
job may run on a Dask cluster, kept under the key as the same kind of Job.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from nnplay.train.executor import QueueFull, get_executor
from nnplay.train.jobs import Job
from nnplay.ui.owner import known_owner

POLL_SECONDS = 0.5


def start_job(key: str, worker: Job, **notes) -> dict:
    """Stop any job under ``key``, start ``worker`` (or queue it, or send it to the cluster:
    nnplay.train.executor) and keep it with ``notes``; returns the job. A learner over a
    workshop server's limit gets ``{"error": why}`` under the key instead, as for a setting
    that cannot start."""
    stop_job(key)
    try:
        worker = get_executor().submit(worker, owner=known_owner())
    except QueueFull as err:
        st.session_state[key] = {"error": str(err)}
        return st.session_state[key]
    job = {"worker": worker, "handled": False, **notes}
    st.session_state[key] = job
    return job


def start_training_job(key: str, dataset, spec: dict, config) -> None:
    """Build the model ``spec`` describes for ``dataset`` (seeded by the config) and train it in
    the background under ``key`` (a button's on_click); an impossible setting is kept as the
    job's error message."""
    from nnplay.train.quick import quick_trainer

    try:
        trainer = quick_trainer(dataset, spec, config)
    except ValueError as err:
        st.session_state[key] = {"error": str(err)}
        return
    start_job(key, Job.for_trainer(trainer), spec=spec)


def _worker(key: str) -> Job | None:
    """The Job under ``key``, kept in a job dict or bare; None when there is none."""
    job = st.session_state.get(key)
    if isinstance(job, dict):
        return job.get("worker")
    return job


def stop_job(key: str) -> None:
    """Ask the job under ``key`` to stop; what was finished (or learned) so far is kept."""
    worker = _worker(key)
    if worker is not None:
        worker.stop()


def progress_bar(worker: Job, what: str = "", unit: str = "steps") -> None:
    """The job's progress bar with its line ("Epoch 12/50, about 3 s left", or its place while
    it waits for a turn); a caption when a configured training cluster cannot be reached."""
    text = worker.describe(unit)
    st.progress(worker.fraction, text=f"{what}: {text}" if what else text)
    problem = get_executor().problem
    if problem:
        st.caption(problem)


def worker_progress(key: str, unit: str = "steps") -> None:
    """Progress and Stop for a Job kept bare at st.session_state[key] while it runs, polled
    every half second; one full rerun when it ends, to show the result."""
    worker = st.session_state.get(key)
    if worker is None or worker.finished:
        return

    @st.fragment(run_every=POLL_SECONDS)
    def poll() -> None:
        if worker.finished:
            st.rerun()
        progress_bar(worker, unit=unit)
        st.button("Stop", key=f"{key}_stop", on_click=stop_job, args=(key,))

    poll()


def settle_job(key: str, on_finish: Callable[[dict], None]) -> dict | None:
    """Run ``on_finish(job)`` once if the job under ``key`` has ended; returns the ended job.

    Call it before drawing anything that depends on the job's result (job_panel calls it too).
    """
    job = st.session_state.get(key)
    if not job or "worker" not in job or not job["worker"].finished:
        return None
    if not job.get("handled"):
        job["handled"] = True
        on_finish(job)
    return job


def job_running(key: str) -> bool:
    """Whether the job under ``key`` is still working (to disable its start button)."""
    worker = _worker(key)
    return worker is not None and not worker.finished


def job_panel(key: str, on_finish: Callable[[dict], None], what: str = "Training") -> dict | None:
    """Progress and Stop while the job runs; once it ends, ``on_finish(job)`` (once).

    Returns the job once it has ended and been handled without an error; otherwise None, after
    showing why (it could not start, or it failed) when there is something to say.
    """
    job = st.session_state.get(key)
    if job and "error" in job:
        st.error(f"{what} could not start: {job['error']}")
        return None
    job = settle_job(key, on_finish)
    if job is not None:
        if job_error(job):
            st.error(f"{what} failed: {job_error(job)}")
            return None
        return job
    job = st.session_state.get(key)
    if not job or "worker" not in job:
        return None
    worker = job["worker"]

    @st.fragment(run_every=POLL_SECONDS)
    def poll() -> None:
        if worker.finished:
            st.rerun()  # one full rerun: on_finish runs and the page shows the result
        progress_bar(worker, what)
        st.button("Stop", key=f"{key}_stop", on_click=stop_job, args=(key,))

    poll()
    return None


def job_error(job: dict) -> str:
    """The error a finished job reports, or '' (the work raised, a trainer included)."""
    worker = job["worker"]
    return worker.error if worker.status == "failed" else ""
