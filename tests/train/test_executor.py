"""The executor: the laptop default starts every job at once; a workshop server's FairQueue takes
turns round the learners with a per-learner limit and says each waiting job's place; a training job
on a Dask cluster (an in-process one here; tests/deploy runs real scheduler and worker processes)
gives the same history and weights as a thread, streams its history, stops, waits its turn, and a
cluster that cannot be reached leaves the job to a thread here."""

import threading

import numpy as np
import pytest
import torch

from nnplay import data
from nnplay.train import TrainConfig
from nnplay.train.executor import (
    CLUSTER,
    LOCAL,
    Executor,
    FairQueue,
    QueueFull,
    get_executor,
    reset_executor,
)
from nnplay.train.jobs import QUEUED, Job
from nnplay.train.quick import quick_trainer

WAIT = 120  # seconds a test waits for a job before failing (never a timing assertion)


def blocking_job(label: str, gate: threading.Event, ran: list) -> Job:
    def work(progress, should_stop):
        ran.append(label)
        while not gate.wait(0.01):
            if should_stop():
                return "stopped early"
        return label

    return Job(work, label=label)


def small_trainer(epochs: int = 8, seed: int = 0, early_stopping=None):
    ds = data.load("moons", n=200, noise=0.2, test_size=0.3, seed=0)
    config = TrainConfig(optimizer="adam", lr=0.02, batch_size=32, epochs=epochs, seed=seed,
                         early_stopping=early_stopping)
    return quick_trainer(ds, {"family": "mlp", "params": {"hidden": [8]}}, config)


def test_the_laptop_default_starts_every_job_at_once(monkeypatch):
    for name in ("NNPLAY_WORKSHOP", "NNPLAY_SHARED", "NNPLAY_DASK", "NNPLAY_JOB_SLOTS",
                 "NNPLAY_JOBS_PER_LEARNER"):
        monkeypatch.delenv(name, raising=False)
    reset_executor()
    try:
        executor = get_executor()
        assert executor.backend == "threads" and executor.queue is None
        gate, ran = threading.Event(), []
        jobs = [executor.submit(blocking_job(f"j{i}", gate, ran), owner="me") for i in range(4)]
        assert all(j.status == "running" for j in jobs)   # no queue, no limit, as job.start()
        gate.set()
        assert [j.join(WAIT).result for j in jobs] == ["j0", "j1", "j2", "j3"]
    finally:
        reset_executor()


def test_workshop_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("NNPLAY_WORKSHOP", "1")
    monkeypatch.setenv("NNPLAY_JOB_SLOTS", "2")
    monkeypatch.delenv("NNPLAY_JOBS_PER_LEARNER", raising=False)
    monkeypatch.delenv("NNPLAY_DASK", raising=False)
    executor = Executor.from_env()
    assert executor.queue.slots == {LOCAL: 2, CLUSTER: None} and executor.queue.per_learner == 3
    monkeypatch.setenv("NNPLAY_JOB_SLOTS", "two")
    with pytest.raises(ValueError, match="NNPLAY_JOB_SLOTS must be a whole number"):
        Executor.from_env()


def test_turns_go_round_the_learners_with_a_limit_per_learner():
    queue = FairQueue({LOCAL: 1}, per_learner=3)
    gate, ran = threading.Event(), []
    a1, a2, a3 = (blocking_job(f"a{i}", gate, ran) for i in (1, 2, 3))
    b1, c1 = blocking_job("b1", gate, ran), blocking_job("c1", gate, ran)
    for job, owner in ((a1, "ann"), (a2, "ann"), (a3, "ann"), (b1, "bob"), (c1, "cy")):
        queue.submit(job, owner, Job.start)
    assert a1.status == "running" and all(j.status == QUEUED for j in (a2, a3, b1, c1))
    # ann has had her turn: bob and cy come before her second and third jobs
    assert queue.order() == [b1, c1, a2, a3]
    assert queue.place(b1) == 1 and queue.place(a3) == 4 and queue.place(a1) is None
    assert b1.describe() == "Waiting for a free trainer: yours is next (1 running)"
    assert a2.describe().startswith("Waiting for your other job to finish (2 jobs ahead")
    with pytest.raises(QueueFull, match="3 jobs running or waiting"):
        queue.submit(blocking_job("a4", gate, ran), "ann", Job.start)
    gate.set()
    for job in (a1, b1, c1, a2, a3):
        assert job.join(WAIT).status == "completed"
    assert ran == ["a1", "b1", "c1", "a2", "a3"] and len(queue) == 0 and queue.running() == 0


def test_a_job_stopped_while_waiting_ends_at_once_and_never_runs():
    queue = FairQueue({LOCAL: 1})
    gate, ran = threading.Event(), []
    first, second, third = (blocking_job(n, gate, ran) for n in ("first", "second", "third"))
    for job, owner in ((first, "ann"), (second, "bob"), (third, "cy")):
        queue.submit(job, owner, Job.start)
    second.stop()
    assert second.finished and second.status == "stopped" and second.result is None
    assert queue.place(third) == 1
    gate.set()
    assert third.join(WAIT).status == "completed" and ran == ["first", "third"]


def test_a_stopped_waiting_training_job_keeps_its_untrained_trainer():
    queue = FairQueue({LOCAL: 1})
    gate, ran = threading.Event(), []
    queue.submit(blocking_job("busy", gate, ran), "ann", Job.start)
    trainer = small_trainer()
    job = queue.submit(Job.for_trainer(trainer), "bob", Job.start)
    job.stop()
    assert job.status == "stopped" and job.result is trainer and trainer.epoch == 0
    assert trainer.status == "stopped" and trainer.stop_reason == "stopped by the user"
    gate.set()


# ---- a Dask cluster (in this process: no ports, no processes) --------------------------------
@pytest.fixture(scope="module")
def dask_address():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


@pytest.fixture
def cluster_executor(dask_address):
    executor = Executor(dask_address=dask_address, shared=True)
    yield executor
    executor.cluster.close()


def test_a_training_job_on_the_cluster_matches_a_thread(cluster_executor):
    here = Job.for_trainer(small_trainer()).start().join(WAIT)
    trainer = small_trainer()
    events = []
    job = cluster_executor.submit(Job.for_trainer(trainer), owner="ann")
    assert type(job).__name__ == "RemoteTrainingJob" and job.trainer is trainer
    original = job.on_event
    job.on_event = lambda msg: (events.append(msg.get("kind")), original(msg))
    assert job.join(WAIT).status == "completed", job.error
    assert job.result is trainer and trainer.status == "completed" and trainer.epoch == 8
    assert job.fraction == 1.0 and job.worker
    mine, theirs = here.trainer.history, trainer.history
    assert [r["epoch"] for r in theirs] == list(range(1, 9))
    np.testing.assert_allclose([r["loss"] for r in theirs], [r["loss"] for r in mine], rtol=1e-5)
    for name, tensor in here.trainer.model.state_dict().items():
        torch.testing.assert_close(trainer.model.state_dict()[name], tensor)
    assert cluster_executor.queue.running() == 0


def test_history_streams_in_and_stop_reaches_the_worker(cluster_executor):
    trainer = small_trainer(epochs=2000)
    job = cluster_executor.submit(Job.for_trainer(trainer), owner="ann")
    for _ in range(WAIT * 20):
        if len(trainer.history_copy()) >= 3:
            break
        threading.Event().wait(0.05)
    assert job.status == "running" and len(trainer.history_copy()) >= 3   # before it finished
    job.stop()
    assert job.join(WAIT).status == "stopped"
    assert trainer.status == "stopped" and 3 <= trainer.epoch < 2000
    assert len(trainer.history) == trainer.epoch


def test_a_job_waits_its_turn_on_a_busy_cluster_and_can_be_stopped_there(cluster_executor):
    busy = cluster_executor.submit(Job.for_trainer(small_trainer(epochs=2000)), owner="ann")
    for _ in range(WAIT * 20):
        if busy.status == "running":
            break
        threading.Event().wait(0.05)
    waiting = cluster_executor.submit(Job.for_trainer(small_trainer(epochs=3)), owner="bob")
    assert waiting.status == QUEUED
    for _ in range(WAIT * 20):
        if "yours is next" in waiting.describe():
            break
        threading.Event().wait(0.1)
    assert waiting.describe() == ("Waiting for a free trainer: yours is next "
                                  "(1 training on 1 worker)")
    waiting.stop()
    assert waiting.finished and waiting.status == "stopped" and waiting.trainer.epoch == 0
    busy.stop()
    assert busy.join(WAIT).status == "stopped"


def test_jobs_a_worker_cannot_rebuild_stay_here(cluster_executor):
    def work(progress, should_stop):
        return 42

    plain = cluster_executor.submit(Job(work), owner="ann")
    assert type(plain) is Job and plain.join(WAIT).result == 42


def test_an_unreachable_cluster_leaves_the_job_to_a_thread(monkeypatch):
    import nnplay.train.remote as remote

    monkeypatch.setattr(remote, "CONNECT_TIMEOUT_S", 1)
    executor = Executor(dask_address="tcp://127.0.0.1:8789")   # nothing listens there
    trainer = small_trainer(epochs=3)
    job = executor.submit(Job.for_trainer(trainer), owner="ann")
    assert job.join(WAIT).status == "completed" and trainer.epoch == 3
    assert "cannot be reached" in executor.problem
    assert not executor.cluster.accepts(Job.for_trainer(small_trainer()))  # until a retry
