"""The one background Job: it completes, fails with a message, stops (keeping what was done,
a trainer's weights included), honours a stop before it starts, and reports its progress."""

import threading
import time

import pytest
import torch

from nnplay import data, models, train
from nnplay.train import Cancelled, Job, TrainConfig, Trainer, check_stop
from nnplay.train.jobs import JOB_STATUSES, fit_stoppable, progress_part

WAIT = 60  # seconds a test waits for a thread before failing (never a timing assertion)


@pytest.fixture
def small():
    return data.load("moons", n=120, noise=0.2, test_size=0.3, seed=0)


def trainer_for(ds, epochs=5, batch_size=16, callbacks=None):
    train.seed_everything(0)
    net = models.mlp(ds.n_features, [8], ds.n_outputs)
    return Trainer(net, ds, TrainConfig(lr=0.02, epochs=epochs, batch_size=batch_size),
                   callbacks=callbacks)


def test_a_plain_job_completes_with_its_result():
    def work(n, progress, should_stop, scale=1):
        for i in range(n):
            check_stop(should_stop)
            progress(i + 1, n)
        return n * scale

    job = Job(work, 3, scale=2, label="plain")
    assert job.status == "ready" and job.fraction == 0.0 and job.seconds_left is None
    job.start().join(WAIT)
    assert job.status == "completed" and job.result == 6 and job.error == ""
    assert (job.done_steps, job.total_steps, job.fraction) == (3, 3, 1.0)
    assert job.finished and not job.running and job.seconds_left == 0.0
    assert job.describe("folds").startswith("3 of 3 folds, ")
    assert set(JOB_STATUSES) == {"ready", "running", "completed", "stopped", "failed"}


def test_a_failing_job_reports_the_message():
    def work(progress, should_stop):
        raise ValueError("lower the learning rate")

    job = Job(work).start().join(WAIT)
    assert job.status == "failed" and job.error == "lower the learning rate"
    assert job.result is None


def test_progress_fraction_and_seconds_left_while_running():
    at_zero, go_on, halfway, finish = (threading.Event() for _ in range(4))

    def work(progress, should_stop):
        progress(0, 4)
        at_zero.set()
        go_on.wait(WAIT)
        progress(2, 4)
        halfway.set()
        finish.wait(WAIT)
        progress(4, 4)
        return "done"

    job = Job(work).start()
    try:
        assert at_zero.wait(WAIT)
        assert job.running and job.fraction == 0.0
        assert job.seconds_left is None  # nothing timed yet
        go_on.set()
        assert halfway.wait(WAIT)
        assert job.fraction == 0.5
        assert job.seconds_left is not None and job.seconds_left >= 0.0
        assert job.describe("folds").startswith("2 of 4 folds, ")
    finally:
        go_on.set()
        finish.set()
    job.join(WAIT)
    assert job.status == "completed" and job.fraction == 1.0 and job.seconds_left == 0.0


def test_cancelled_from_a_loop_means_stopped_with_what_it_carried():
    started = threading.Event()

    def loop(progress, should_stop, partial=True):
        done = []
        try:
            for i in range(10_000):
                check_stop(should_stop)
                done.append(i)
                progress(i + 1, 10_000)
                started.set()
                time.sleep(0.005)  # a piece of work
        except Cancelled as stop:
            if partial:
                raise Cancelled(result=done) from stop
            raise
        return done

    for partial in (True, False):
        started.clear()
        job = Job(loop, partial=partial).start()
        assert started.wait(WAIT)
        job.stop()
        job.join(WAIT)
        assert job.status == "stopped" and job.error == ""
        if partial:
            assert job.result == list(range(len(job.result))) and 1 <= len(job.result) < 10_000
        else:
            assert job.result is None  # a bare Cancelled carries nothing


def test_a_stop_before_start_means_the_work_never_runs(small):
    calls = []
    job = Job(lambda progress, should_stop: calls.append(1))
    job.stop()
    job.start().join(WAIT)
    assert job.status == "stopped" and calls == []

    trainer = trainer_for(small)
    job = Job.for_trainer(trainer)
    job.stop()
    job.start().join(WAIT)
    assert job.status == "stopped" and job.result is trainer and trainer.epoch == 0
    assert trainer.status == "stopped" and trainer.done


def test_a_training_job_counts_epochs_and_returns_the_trainer(small):
    trainer = trainer_for(small, epochs=5)
    job = Job.for_trainer(trainer)
    assert job.trainer is trainer and (job.done_steps, job.total_steps) == (0, 5)
    assert job.describe() == "Epoch 0/5"
    job.start().join(WAIT)
    assert job.status == "completed" and job.result is trainer
    assert trainer.status == "completed" and trainer.epoch == 5
    assert (job.done_steps, job.total_steps, job.fraction) == (5, 5, 1.0)
    assert job.describe() == "Epoch 5/5"
    assert trainer.callbacks == []  # the job's link to the trainer is gone afterwards


def test_stop_keeps_the_weights_learned_so_far(small):
    first_epoch = threading.Event()
    trainer = trainer_for(small, epochs=100_000, batch_size=4, callbacks=[
        train.LambdaCallback(on_epoch_end=lambda t, logs: first_epoch.set())])
    before = [p.detach().clone() for p in trainer.model.parameters()]
    job = Job.for_trainer(trainer).start()
    assert first_epoch.wait(WAIT)
    assert job.running and job.seconds_left is not None
    assert job.describe().startswith("Epoch ") and "s left" in job.describe()
    job.stop()
    job.join(WAIT)
    assert job.status == "stopped" and job.result is trainer and job.error == ""
    assert trainer.status == "stopped" and 1 <= trainer.epoch < 100_000
    assert len(trainer.history_copy()) == trainer.epoch
    # the model was not reset: it is the one the last epoch validated
    assert any(not torch.equal(p, q) for p, q in zip(trainer.model.parameters(), before,
                                                     strict=True))
    assert train.evaluate(trainer.model, small)["loss"] == pytest.approx(
        trainer.history[-1]["val_loss"], rel=1e-5)


def test_a_trainer_raising_fails_the_job_with_its_message(small):
    def explode(trainer, logs):
        if logs["epoch"] == 2:
            raise RuntimeError("out of memory on epoch 2")

    trainer = trainer_for(small, callbacks=[train.LambdaCallback(on_epoch_end=explode)])
    job = Job.for_trainer(trainer).start().join(WAIT)
    assert job.status == "failed" and job.error == "out of memory on epoch 2"
    assert trainer.status == "stopped" and trainer.stop_reason.startswith("error:")
    assert job.trainer is trainer and trainer.epoch == 2


def test_fit_stoppable_reports_each_epoch_and_raises_cancelled_with_the_trainer(small):
    seen = []
    trainer = fit_stoppable(trainer_for(small, epochs=3),
                            progress_part(lambda d, t: seen.append((d, t)), 10, 13))
    assert seen == [(11, 13), (12, 13), (13, 13)] and trainer.status == "completed"

    asked = []

    def stop_after_two_epochs():
        asked.append(1)
        return len(seen2) >= 2

    seen2 = []
    stopped = trainer_for(small, epochs=50)
    with pytest.raises(Cancelled) as caught:
        fit_stoppable(stopped, lambda d, t: seen2.append(d), stop_after_two_epochs)
    assert caught.value.result is stopped
    assert stopped.status == "stopped" and stopped.epoch == 2 and seen2 == [1, 2]
    assert progress_part(None, 0, 1) is None
