"""The Trainer learns, is reproducible, runs in chunks, stops, and reports divergence."""

import threading

import numpy as np
import pytest
import torch

from nnplay import data, models, train
from nnplay.train import StopTraining, TrainConfig, Trainer


def make_net(ds, hidden=(16, 16), activation="relu", seed=0, **kw):
    train.seed_everything(seed)
    return models.mlp(ds.n_features, list(hidden), ds.n_outputs, activation=activation, **kw)


def test_learns_moons_to_95_percent():
    ds = data.load("moons", n=500, noise=0.1, seed=0)
    net = make_net(ds)
    trainer = Trainer(net, ds, TrainConfig(lr=0.01, epochs=200, batch_size=32, seed=0)).fit()
    assert trainer.status == "completed" and trainer.epoch == 200
    assert train.evaluate(net, ds)["accuracy"] >= 0.95
    h = trainer.history
    assert len(h) == 200 and h[-1]["loss"] < h[0]["loss"] / 5
    assert {"epoch", "loss", "val_loss", "accuracy", "val_accuracy", "lr", "grad_norm", "time"} <= set(h[-1])


def test_regression_learns_plane(plane):
    net = make_net(plane, hidden=(8,), activation="tanh")
    trainer = Trainer(net, plane, TrainConfig(lr=0.01, epochs=150, batch_size=32)).fit()
    result = train.evaluate(net, plane)
    assert result["r2"] > 0.95 and trainer.history[-1]["val_r2"] > 0.95


def test_same_seed_same_numbers_and_chunks_equal_fit(moons):
    cfg = TrainConfig(lr=0.02, epochs=30, batch_size=16, seed=3)
    a = Trainer(make_net(moons, seed=3, dropout=0.2), moons, cfg).fit()
    b = Trainer(make_net(moons, seed=3, dropout=0.2), moons, cfg)
    for _ in range(6):
        b.run(epochs=5)
    assert b.epoch == 30 and b.status == "completed"
    assert [r["loss"] for r in a.history] == [r["loss"] for r in b.history]
    c = Trainer(make_net(moons, seed=4, dropout=0.2), moons, cfg.replace(seed=4)).fit()
    assert c.history[-1]["loss"] != a.history[-1]["loss"]


def test_run_never_passes_planned_epochs(moons):
    t = Trainer(make_net(moons), moons, TrainConfig(epochs=7, batch_size=0))
    t.run(5)
    assert t.status == "paused" and t.epoch == 5
    t.run(5)
    assert t.epoch == 7 and t.status == "completed"
    t.run(5)
    assert t.epoch == 7


def test_divergence_is_reported_not_raised(plane):
    ds = plane
    ds.y_train = ds.y_train * 1e3
    net = make_net(ds, hidden=(8,), activation="linear")
    t = Trainer(net, ds, TrainConfig(optimizer="sgd", lr=50.0, epochs=100, batch_size=0)).fit()
    assert t.status == "diverged"
    last = t.history[-1]
    assert t.epoch < 100 and not (np.isfinite(last["loss"]) and np.isfinite(last["val_loss"]))
    assert "learning rate" in t.stop_reason


def test_callback_can_stop_training(moons):
    class StopAt3(train.Callback):
        def on_epoch_end(self, trainer, logs):
            if logs["epoch"] == 3:
                raise StopTraining("stopped", "enough")

    t = Trainer(make_net(moons), moons, TrainConfig(epochs=50), callbacks=[StopAt3()]).fit()
    assert t.epoch == 3 and t.status == "stopped" and t.stop_reason == "enough"


def test_stop_flag_from_another_thread(moons):
    started = threading.Event()
    t = Trainer(make_net(moons), moons, TrainConfig(epochs=100_000, batch_size=8),
                callbacks=[train.LambdaCallback(on_epoch_end=lambda tr, logs: started.set())])
    worker = threading.Thread(target=t.fit)
    worker.start()
    assert started.wait(60)
    t.stop()
    worker.join(60)
    assert not worker.is_alive() and t.status == "stopped" and 0 < t.epoch < 100_000
    assert len(t.history_copy()) == t.epoch


def test_early_stopping_restores_best_weights():
    ds = data.load("moons", n=60, noise=0.3, seed=1, test_size=0.5)
    net = make_net(ds, hidden=(64, 64))
    best = {}

    def remember(trainer, logs):
        if logs["val_loss"] <= min(r["val_loss"] for r in trainer.history):
            best["state"] = {k: v.clone() for k, v in trainer.model.state_dict().items()}
            best["val_loss"] = logs["val_loss"]

    cfg = TrainConfig(lr=0.05, epochs=2000, batch_size=0, early_stopping=20)
    t = Trainer(net, ds, cfg, callbacks=[train.LambdaCallback(on_epoch_end=remember)]).fit()
    assert t.status == "early_stopped" and t.epoch < 2000
    for k, v in net.state_dict().items():
        assert torch.equal(v, best["state"][k])
    assert train.evaluate(net, ds)["loss"] == pytest.approx(best["val_loss"], rel=1e-5)


def test_l1_shrinks_weights(moons):
    plain = Trainer(make_net(moons), moons, TrainConfig(epochs=40)).fit()
    sparse = Trainer(make_net(moons), moons, TrainConfig(epochs=40, l1=0.01)).fit()
    norm = lambda t: sum(float(p.abs().sum()) for p in t._weights)  # noqa: E731
    assert norm(sparse) < 0.7 * norm(plain)


def test_validation_split_from_training(moons):
    t = Trainer(make_net(moons), moons, TrainConfig(epochs=2, val_fraction=0.25))
    assert len(t._Xv) == round(0.25 * moons.n_train) and len(t._X) + len(t._Xv) == moons.n_train


def test_images_flow_through_mlp():
    ds = data.load("digits")
    t = Trainer(make_net(ds, hidden=(32,)), ds, TrainConfig(epochs=5, batch_size=64)).fit()
    assert t.history[-1]["val_accuracy"] > 0.8


@pytest.mark.parametrize("change, message", [
    ({"lr": -1.0}, "lr"), ({"lr": float("nan")}, "finite"), ({"optimizer": "adamax"}, "optimizer"),
    ({"epochs": 0}, "epochs"), ({"batch_size": -3}, "batch_size"), ({"schedule": "warp"}, "schedule"),
    ({"early_stopping": 0}, "patience"), ({"l2": -0.1}, "l2"), ({"epochs": 2.5}, "whole number"),
])
def test_config_rejects_impossible_settings(change, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**change)


def test_config_is_hashable_and_round_trips():
    cfg = TrainConfig(optimizer="sgd", lr=0.1, schedule="cosine", early_stopping=5)
    assert hash(cfg) == hash(TrainConfig.from_dict(cfg.to_dict()))
    assert TrainConfig.from_dict({**cfg.to_dict(), "unknown_future_field": 1}) == cfg


def test_grad_clip_bounds_every_step(moons):
    seen = []

    class Watch(train.Callback):
        def on_batch_end(self, trainer, batch, loss):
            total = torch.linalg.vector_norm(torch.stack(
                [p.grad.norm() for p in trainer.model.parameters() if p.grad is not None]))
            seen.append(float(total))

    t = Trainer(make_net(moons), moons, TrainConfig(epochs=3, lr=0.05, grad_clip=0.01),
                callbacks=[Watch()]).fit()
    assert t.epoch == 3 and max(seen) <= 0.01 + 1e-6
    with pytest.raises(ValueError, match="grad_clip"):
        TrainConfig(grad_clip=0.0)


def test_interleaved_trainers_keep_their_own_dropout_stream(moons):
    cfg = TrainConfig(lr=0.02, epochs=12, batch_size=16, seed=5)
    alone = Trainer(make_net(moons, seed=5, dropout=0.3), moons, cfg).fit()
    a = Trainer(make_net(moons, seed=5, dropout=0.3), moons, cfg)
    b = Trainer(make_net(moons, seed=6, dropout=0.3), moons, cfg.replace(seed=6))
    for _ in range(4):
        a.run(3)
        b.run(3)
    assert [r["loss"] for r in a.history] == [r["loss"] for r in alone.history]
    net = make_net(moons, dropout=0.3)
    state = torch.get_rng_state()
    Trainer(net, moons, cfg).run(2)
    assert torch.equal(state, torch.get_rng_state())   # the global generator is left alone


def test_curves_start_at_epoch_0_with_the_untrained_loss(moons):
    from nnplay.train.quick import quick_trainer

    trainer = quick_trainer(moons, epochs=3)
    start = trainer.start_logs
    assert start["epoch"] == 0 and start == trainer.curve_history()[0]
    assert start["loss"] == pytest.approx(train.evaluate(trainer.model, moons, "train")["loss"],
                                          rel=1e-5)
    assert start["val_loss"] == pytest.approx(train.evaluate(trainer.model, moons)["loss"], rel=1e-5)
    trainer.fit()
    assert [h["epoch"] for h in trainer.curve_history()] == [0, 1, 2, 3]
    assert len(trainer.history) == 3   # records and counts still start at epoch 1


class CountBatches(train.Callback):
    def __init__(self):
        self.per_epoch = []
        self._n = 0

    def on_batch_end(self, trainer, batch, loss, **kwargs):
        self._n += 1

    def on_epoch_end(self, trainer, logs, **kwargs):
        self.per_epoch.append(self._n)
        self._n = 0


def weights_of(trainer) -> list[torch.Tensor]:
    return [p.detach().clone() for p in trainer.model.parameters()]


def test_reconfigure_changes_lr_batch_and_l2_in_place(moons):
    counter = CountBatches()
    cfg = TrainConfig(optimizer="momentum", lr=0.05, batch_size=40, epochs=50, seed=1)
    t = Trainer(make_net(moons), moons, cfg, callbacks=[counter]).run(3)
    before, optimizer = weights_of(t), t.optimizer
    buffers = [optimizer.state[p]["momentum_buffer"].clone() for p in t.model.parameters()]
    t.reconfigure(lr=0.2, batch_size=70, l2=0.01, momentum=0.5)
    assert t.epoch == 3 and len(t.history) == 3 and t.optimizer is optimizer
    assert all(torch.equal(a, b) for a, b in zip(before, weights_of(t)))      # weights kept
    assert all(torch.equal(optimizer.state[p]["momentum_buffer"], b)         # its state kept
               for p, b in zip(t.model.parameters(), buffers))
    group = optimizer.param_groups[0]
    assert (group["lr"], group["weight_decay"], group["momentum"]) == (0.2, 0.01, 0.5)
    t.run(2)
    assert t.epoch == 5 and [h["lr"] for h in t.history] == [0.05] * 3 + [0.2] * 2
    assert counter.per_epoch == [7] * 3 + [4] * 2     # 280 rows in batches of 40, then 70
    assert t.config.batch_size == 70 and t.config.seed == 1


def test_reconfigure_to_another_optimizer_keeps_weights_and_epoch(moons):
    t = Trainer(make_net(moons), moons, TrainConfig(optimizer="sgd", lr=0.1, epochs=20)).run(4)
    before = weights_of(t)
    t.reconfigure(optimizer="adam", lr=0.01)
    assert isinstance(t.optimizer, torch.optim.Adam) and len(t.optimizer.state) == 0
    assert all(torch.equal(a, b) for a, b in zip(before, weights_of(t)))
    assert list(t.optimizer.param_groups[0]["params"]) == list(t.model.parameters())
    t.run(3)
    assert t.epoch == 7 and t.history[-1]["lr"] == 0.01 and len(t.optimizer.state) > 0
    assert not all(torch.equal(a, b) for a, b in zip(before, weights_of(t)))   # it trains on


def test_reconfigure_a_schedule_continues_from_the_current_epoch(moons):
    cfg = TrainConfig(optimizer="sgd", lr=0.1, epochs=20, schedule="cosine")
    t = Trainer(make_net(moons), moons, cfg).run(5)
    t.reconfigure(lr=0.3)
    t.run(1)
    expected = train.lr_schedule_preview(cfg.replace(lr=0.3))[5]   # epoch 6 of the new schedule
    assert t.history[-1]["lr"] == pytest.approx(expected) and t.epoch == 6
    done = Trainer(make_net(moons), moons, TrainConfig(lr=0.05, epochs=4)).fit()
    assert done.status == "completed" and done.done
    done.reconfigure(epochs=6)                      # more epochs: the network goes on
    assert not done.done and done.run(10).epoch == 6 and done.status == "completed"


def test_reconfigure_swaps_early_stopping(moons):
    t = Trainer(make_net(moons), moons, TrainConfig(lr=0.05, epochs=30, early_stopping=3))
    t.run(2).reconfigure(early_stopping=10)
    stoppers = [c for c in t.callbacks if isinstance(c, train.EarlyStopping)]
    assert [s.patience for s in stoppers] == [10]
    t.reconfigure(early_stopping=None)
    assert not any(isinstance(c, train.EarlyStopping) for c in t.callbacks)
    t.status = "early_stopped"                      # as if it had stopped: relaxing lets it go on
    t.reconfigure(early_stopping=20)
    assert t.status == "paused" and t.run(1).epoch == 3


@pytest.mark.parametrize("change, message", [
    ({"lr": -1.0}, "lr"), ({"batch_size": -2}, "batch_size"), ({"optimizer": "adamax"}, "optimizer"),
    ({"seed": 3}, "cannot change during a run"), ({"val_fraction": 0.2}, "cannot change"),
    ({"learning_rate": 0.1}, "Unknown training setting"),
])
def test_reconfigure_rejects_bad_values_and_keeps_the_config(moons, change, message):
    t = Trainer(make_net(moons), moons, TrainConfig(lr=0.05, epochs=10)).run(1)
    before = t.config
    with pytest.raises(ValueError, match=message):
        t.reconfigure(**change)
    assert t.config == before and t.optimizer.param_groups[0]["lr"] == 0.05
