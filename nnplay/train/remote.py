"""Training on a Dask cluster, seen from the app as an ordinary Job (nnplay.train.executor).

The app ships a plain description of the run to a worker: the model's spec and its initial
weights (safetensors), the dataset's arrays (safetensors) and facts (JSON), and the TrainConfig.
The worker rebuilds the same Trainer, so the same seed gives the same numbers as a thread here,
and trains it with ``fit_stoppable``. While it trains:

- progress: the worker logs the new history rows (at most every PROGRESS_S) under this app
  process's event topic; the Client pushes them to ``RemoteTrainingJob.on_event``, which appends
  them to the local Trainer's history, so live curves read it as for a thread;
- stop: Stop sets a ``distributed.Event`` named after the job, which the worker reads between
  epochs (at most every STOP_CHECK_S); a job still waiting for a worker is cancelled at once;
- the result: status, history and the trained weights as safetensors bytes, loaded into the local
  Trainer's model. Nothing here unpickles a model; the workers are the deployment's own processes.

A worker that dies mid-run makes Dask run the task again elsewhere: its first event carries a new
attempt id, and the local history starts over with it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import numpy as np

from nnplay.train.callbacks import EarlyStopping
from nnplay.train.jobs import (
    QUEUED,
    STOPPED_BY_USER,
    Cancelled,
    Job,
    _mark_stopped,
    fit_stoppable,
)

KEY_PREFIX = "nnplay-train"
PROGRESS_S = 0.25       # the worker sends new history rows at most this often
STOP_CHECK_S = 0.25     # and asks the scheduler whether Stop was pressed at most this often
SNAPSHOT_S = 1.0        # the cluster's queue is looked at most once a second per app process
CONNECT_TIMEOUT_S = 10
RETRY_CONNECT_S = 30    # after a failed connection, jobs run here for this long before a retry
REMOTE_FAMILIES = ("mlp", "cnn", "rnn", "lstm", "gru", "transformer")


# ---- what travels: plain data, arrays and weights as safetensors ------------------------------
def _plain(value):
    """A value msgpack and JSON can carry: NumPy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value


def training_payload(trainer) -> dict:
    """What a worker needs to rebuild ``trainer`` (not yet started): bytes, str and numbers only."""
    from safetensors.numpy import save as save_arrays

    from nnplay.models import modelio

    ds = trainer.dataset
    arrays = {name: np.ascontiguousarray(getattr(ds, name))
              for name in ("X_train", "y_train", "X_test", "y_test")}
    return {"spec": trainer.spec.to_dict(), "config": trainer.config.to_dict(),
            "weights": modelio.weights_bytes(trainer.model),
            "arrays": save_arrays(arrays),
            "dataset": json.dumps({"name": ds.name, "task": ds.task,
                                   "feature_names": list(ds.feature_names),
                                   "class_names": None if ds.class_names is None
                                   else list(ds.class_names),
                                   "description": ds.description, "params": _plain(ds.params)},
                                  default=str)}


def trainer_from_payload(payload: dict):
    """The Trainer a payload describes, with the same initial weights, data and config."""
    from safetensors.numpy import load as load_arrays
    from safetensors.torch import load as load_weights

    from nnplay.data.dataset import Dataset
    from nnplay.models.registry import ModelSpec
    from nnplay.train.config import TrainConfig
    from nnplay.train.trainer import Trainer

    facts = json.loads(payload["dataset"])
    ds = Dataset(facts["name"], task=facts["task"], feature_names=facts["feature_names"],
                 class_names=facts["class_names"], description=facts["description"],
                 params=facts["params"], **load_arrays(payload["arrays"]))
    spec = ModelSpec.of(payload["spec"])
    model = spec.build(ds)
    model.load_state_dict(load_weights(payload["weights"]))
    trainer = Trainer(model, ds, TrainConfig.from_dict(payload["config"]))
    trainer.spec = spec
    return trainer


def stop_event_name(key: str) -> str:
    return f"{key}-stop"


def run_training(payload: dict, key: str, topic: str) -> dict:
    """The task a Dask worker runs: train, streaming history rows to ``topic``; returns the
    result as plain data (status, history, weights as safetensors)."""
    from distributed import Event, get_worker

    from nnplay.models import modelio

    worker, attempt = get_worker(), uuid.uuid4().hex

    def send(**msg) -> None:
        worker.log_event(topic, {"key": key, "attempt": attempt, **msg})

    stop, checked = Event(stop_event_name(key)), [0.0, False]

    def should_stop() -> bool:
        now = time.monotonic()
        if not checked[1] and now - checked[0] >= STOP_CHECK_S:
            checked[0], checked[1] = now, stop.is_set()
        return checked[1]

    trainer = trainer_from_payload(payload)
    sent, last = [0], [0.0]

    def flush(force: bool = False) -> None:
        now = time.monotonic()
        rows = trainer.history_copy()[sent[0]:]
        if rows and (force or now - last[0] >= PROGRESS_S):
            send(kind="rows", rows=_plain(rows), total=trainer.config.epochs)
            sent[0], last[0] = sent[0] + len(rows), now

    send(kind="started", total=trainer.config.epochs)
    status, error = "completed", ""
    try:
        fit_stoppable(trainer, progress=lambda done, total: flush(), should_stop=should_stop)
    except Cancelled:
        status = "stopped"
    except Exception as err:  # noqa: BLE001 - reported to the learner, like a thread's error
        status, error = "failed", str(err) or type(err).__name__
    flush(force=True)
    best = next((cb.best_epoch_ for cb in trainer.callbacks
                 if isinstance(cb, EarlyStopping)), None)
    return {"status": status, "error": error, "trainer_status": trainer.status,
            "stop_reason": trainer.stop_reason, "epoch": trainer.epoch,
            "train_seconds": trainer.train_seconds, "history": _plain(trainer.history_copy()),
            "best_epoch": best, "weights": modelio.weights_bytes(trainer.model),
            "worker": worker.address}


# ---- the app's side ----------------------------------------------------------------------------
class RemoteTrainingJob(Job):
    """``Job.for_trainer(trainer)`` whose fit runs on a Dask worker; ``trainer`` here mirrors it
    (history as it grows, then status and weights). Falls back to a thread here when the
    cluster cannot take it."""

    def __init__(self, trainer, cluster: DaskCluster, label: str = ""):
        super().__init__(fit_stoppable, trainer, label=label or f"train {trainer.dataset.name}")
        self.trainer, self.cluster = trainer, cluster
        self.key = f"{KEY_PREFIX}-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        self.future = None
        self.worker = ""            # the worker's address once it has started
        self._attempt = ""
        self._mirror = threading.Lock()   # the Client's event thread and its callback thread
        self.report(trainer.epoch, trainer.config.epochs)

    def start(self) -> Job:
        """Send the run to the cluster (once); it waits there (QUEUED) until a worker starts it."""
        with self._lock:
            if self.future is not None or self._thread is not None or self.finished:
                return self
            self.status, self.queue_note = QUEUED, lambda: self.cluster.note(self)
        try:
            self.future = self.cluster.submit(self)
        except Exception as err:  # noqa: BLE001 - the cluster is unreachable: train here
            self.cluster.failed(err)
            with self._lock:
                self.status, self.queue_note = "ready", None
            return Job.start(self)
        return self

    def stop(self) -> None:
        """Stop: a job waiting for a worker ends now; a running one stops after its epoch."""
        self._stop.set()
        if self.future is None:
            return super().stop()
        self.cluster.request_stop(self.key)
        if self.status == QUEUED:      # no worker has it yet: cancel it and end now
            self.future.cancel()
            with self._mirror:
                if not self.finished:
                    if not self.trainer.done:
                        _mark_stopped(self.trainer, STOPPED_BY_USER)
                    self._load(None, "")

    def on_event(self, msg: dict) -> None:
        """A message from the worker (called on the Client's thread): started, or new rows."""
        with self._mirror:
            if not self.finished:
                self._mirror_event(msg)

    def _mirror_event(self, msg: dict) -> None:
        trainer = self.trainer
        if msg.get("attempt") != self._attempt:      # a first start, or Dask's retry elsewhere
            self._attempt = msg.get("attempt", "")
            with trainer.lock:
                trainer.history = []
            trainer.epoch = 0
        if msg.get("kind") == "started":
            with self._lock:
                self.status, self.started_at = "running", time.perf_counter()
                self._done_at_start = 0
            trainer.status = "running"
        rows = [r for r in msg.get("rows", ()) if r.get("epoch", 0) > trainer.epoch]
        if rows:
            with trainer.lock:
                trainer.history.extend(rows)
            trainer.epoch = int(rows[-1]["epoch"])
            self.report(trainer.epoch, int(msg.get("total", trainer.config.epochs)))

    def on_done(self, future) -> None:
        """The task ended (called on a Client thread): load what came back into the trainer."""
        if self.finished:
            return
        try:
            outcome = future.result()
        except Exception as err:  # noqa: BLE001 - the worker died too often, or was cancelled
            self._done(None, f"the training cluster lost this job ({err or type(err).__name__})")
            return
        self._done(outcome)

    def _done(self, outcome: dict | None, error: str = "") -> None:
        with self._mirror:
            if not self.finished:
                self._load(outcome, error)

    def _load(self, outcome: dict | None, error: str) -> None:
        from safetensors.torch import load as load_weights

        trainer = self.trainer
        status = "stopped" if outcome is None and not error else "failed" if outcome is None \
            else outcome["status"]
        if outcome is not None:
            error = outcome["error"]
            trainer.model.load_state_dict(load_weights(outcome["weights"]))
            with trainer.lock:
                trainer.history = list(outcome["history"])
            trainer.epoch, trainer.train_seconds = outcome["epoch"], outcome["train_seconds"]
            trainer.status, trainer.stop_reason = outcome["trainer_status"], outcome["stop_reason"]
            trainer._started = True
            for cb in trainer.callbacks:
                if isinstance(cb, EarlyStopping):
                    cb.best_epoch_ = outcome["best_epoch"]
            self.worker = outcome.get("worker", "")
            self.report(trainer.epoch, trainer.config.epochs)
        elif error and not trainer.done:
            _mark_stopped(trainer, f"error: {error}")
        self.cluster.forget(self)
        self._finish(status, trainer if status != "failed" else None, error)

    def __repr__(self) -> str:
        return (f"RemoteTrainingJob({self.key!r}, status={self.status!r}, "
                f"progress={self.done_steps}/{self.total_steps})")


class DaskCluster:
    """This app process's connection to a Dask scheduler started outside it: one Client, one
    event topic for every job's progress, and a look at the cluster's queue once a second."""

    def __init__(self, address: str):
        self.address = address
        self.topic = f"nnplay-progress-{uuid.uuid4().hex[:12]}"
        self.problem = ""
        self._client = None
        self._jobs: dict[str, RemoteTrainingJob] = {}
        self._lock = threading.Lock()
        self._failed_at = 0.0
        self._snapshot: tuple[float, list[str], set[str], int] = (-SNAPSHOT_S, [], set(), 0)

    def client(self):
        """The Client, connected on first use (never a cluster started here)."""
        with self._lock:
            if self._client is None:
                from distributed import Client

                client = Client(self.address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
                client.subscribe_topic(self.topic, self._on_event)
                self._client, self.problem = client, ""
            return self._client

    def accepts(self, job: Job) -> bool:
        """Whether ``job`` is a plain training job a worker can rebuild (a Trainer not yet run,
        of a registered family, with no page-made callbacks) and the cluster was not just found
        unreachable."""
        trainer = job.trainer
        if (trainer is None or job.fn is not fit_stoppable or trainer.epoch or trainer._started
                or getattr(trainer, "spec", None) is None
                or trainer.spec.family not in REMOTE_FAMILIES
                or any(type(cb) is not EarlyStopping for cb in trainer.callbacks)):
            return False
        return not self.problem or time.monotonic() - self._failed_at > RETRY_CONNECT_S

    def job_for(self, job: Job) -> RemoteTrainingJob:
        return RemoteTrainingJob(job.trainer, self, job.label)

    def launch(self, job: Job) -> None:
        job.start()

    def submit(self, job: RemoteTrainingJob):
        client = self.client()
        self._jobs[job.key] = job
        future = client.submit(run_training, training_payload(job.trainer), job.key, self.topic,
                               key=job.key, pure=False)
        future.add_done_callback(job.on_done)
        return future

    def failed(self, err: Exception) -> None:
        self.problem = (f"The training cluster at {self.address} cannot be reached ({err}); "
                        "jobs run on this app server until it can.")
        self._failed_at = time.monotonic()
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close(timeout=2)

    def request_stop(self, key: str) -> None:
        from distributed import Event

        try:
            Event(stop_event_name(key), client=self.client()).set()
        except Exception as err:  # noqa: BLE001 - said on the page; the job may still finish
            self.problem = f"Stop could not reach the training cluster ({err})."

    def forget(self, job: RemoteTrainingJob) -> None:
        """A finished job: no more events for it, and its stop flag leaves the scheduler."""
        self._jobs.pop(job.key, None)
        if job.should_stop() and self._client is not None:
            from distributed import Event

            try:
                Event(stop_event_name(job.key), client=self._client).clear()
            except Exception:  # noqa: BLE001, S110 - a flag left behind costs a few bytes
                pass

    def _on_event(self, event) -> None:
        _, msg = event
        job = self._jobs.get(msg.get("key")) if isinstance(msg, dict) else None
        if job is not None:
            job.on_event(msg)

    # ---- the queue, as far as the scheduler tells -------------------------------------------
    def queue_snapshot(self) -> tuple[list[str], set[str], int]:
        """(keys of nnplay jobs waiting on workers, oldest first; keys running; workers), at
        most SNAPSHOT_S old. A worker runs as many as it has threads, in submission order."""
        now = time.monotonic()
        if now - self._snapshot[0] < SNAPSHOT_S:
            return self._snapshot[1:]
        try:
            client = self.client()
            processing, nthreads = client.processing(), client.nthreads()
        except Exception:  # noqa: BLE001 - an unknown place is shown as such
            processing, nthreads = {}, {}
        waiting, running = [], set()
        for address, keys in processing.items():
            ours = sorted(str(k) for k in keys if str(k).startswith(KEY_PREFIX))
            slots = nthreads.get(address, 1)
            running.update(ours[:slots])
            waiting += ours[slots:]
        self._snapshot = (now, sorted(waiting), running, len(nthreads))
        return self._snapshot[1:]

    def note(self, job: RemoteTrainingJob) -> str:
        waiting, running, workers = self.queue_snapshot()
        if not workers:
            return "Waiting for a trainer: no worker is connected to the training cluster yet"
        if job.key in waiting:
            ahead = waiting.index(job.key)
            where = f"{ahead} job{'s' if ahead != 1 else ''} ahead of yours" if ahead else \
                "yours is next"
            return (f"Waiting for a free trainer: {where} ({len(running)} training on {workers} "
                    f"worker{'s' if workers != 1 else ''})")
        return "Starting on a trainer"

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close(timeout=5)

    def __repr__(self) -> str:
        return f"DaskCluster({self.address!r}, jobs={len(self._jobs)})"
