"""Background training on a page: start a job, poll it in a fragment, handle its end once.

A job is a BackgroundTrainer (one model) or a BackgroundJob (several models, a race) kept in
st.session_state under a key, with the page's own notes beside it. ``job_panel`` draws a
progress bar and a Stop button while it runs (polled every half second, the thread never
touches Streamlit), then calls the page's ``on_finish(job)`` exactly once and reruns the page.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from nnplay.train.background import BackgroundTrainer
from nnplay.train.jobs import BackgroundJob

POLL_SECONDS = 0.5


def start_job(key: str, worker: BackgroundTrainer | BackgroundJob, **notes) -> dict:
    """Stop any job under ``key``, start ``worker`` and keep it with ``notes``; returns the job."""
    stop_job(key)
    job = {"worker": worker.start(), "handled": False, **notes}
    st.session_state[key] = job
    return job


def start_training_job(key: str, dataset, spec: dict, config) -> None:
    """Build the model ``spec`` describes for ``dataset`` and train it in the background under
    ``key`` (a button's on_click); an impossible setting is kept as the job's error message."""
    from nnplay.models import build_model
    from nnplay.train import Trainer

    try:
        trainer = Trainer(build_model(spec, dataset), dataset, config)
    except ValueError as err:
        st.session_state[key] = {"error": str(err)}
        return
    start_job(key, BackgroundTrainer(trainer), spec=spec)


def stop_job(key: str) -> None:
    """Ask the job under ``key`` to stop; what was learned so far is kept."""
    job = st.session_state.get(key)
    if not job or "worker" not in job:
        return
    worker = job["worker"]
    if isinstance(worker, BackgroundTrainer):
        worker.stop()
    else:
        worker.cancel()


def _progress(worker, unit: str = "epochs") -> tuple[float, str]:
    if isinstance(worker, BackgroundTrainer):
        p = worker.progress()
        left = "" if p.seconds_left is None else f", about {p.seconds_left:.0f} s left"
        return p.fraction, f"Epoch {p.epoch}/{p.epochs} ({p.status}{left})"
    done = (f"{worker.done_steps} of {worker.total_steps} {unit}" if worker.total_steps
            else f"{worker.fraction:.0%}")
    return worker.fraction, f"{done}, {worker.elapsed_seconds():.1f} s"


def worker_progress(key: str, unit: str = "steps") -> None:
    """Progress and Cancel for a worker kept bare at st.session_state[key] (a BackgroundJob)
    while it runs, polled every half second; one full rerun when it ends, to show the result."""
    worker = st.session_state.get(key)
    if worker is None or worker.finished:
        return

    @st.fragment(run_every=POLL_SECONDS)
    def poll() -> None:
        if worker.finished:
            st.rerun()
        fraction, text = _progress(worker, unit)
        st.progress(fraction, text=text)
        st.button("Cancel", key=f"{key}_cancel", on_click=worker.cancel)

    poll()


def settle_job(key: str, on_finish: Callable[[dict], None]) -> dict | None:
    """Run ``on_finish(job)`` once if the job under ``key`` has ended; returns the ended job.

    Call it before drawing anything that depends on the job's result (job_panel calls it too).
    """
    job = st.session_state.get(key)
    if not job or "worker" not in job or not job["worker"].finished:
        return None
    if not job["handled"]:
        job["handled"] = True
        on_finish(job)
    return job


def job_running(key: str) -> bool:
    """Whether the job under ``key`` is still working (to disable its start button)."""
    job = st.session_state.get(key) or {}
    return "worker" in job and not job["worker"].finished


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
        fraction, text = _progress(worker)
        st.progress(fraction, text=f"{what}: {text}")
        st.button("Stop", key=f"{key}_stop", on_click=stop_job, args=(key,))

    poll()
    return None


def job_error(job: dict) -> str:
    """The error a finished job reports, or '' (a BackgroundJob failing, a trainer raising)."""
    worker = job["worker"]
    if isinstance(worker, BackgroundJob):
        return worker.error if worker.status == "failed" else ""
    return str(worker.error_) if worker.error_ is not None else ""
