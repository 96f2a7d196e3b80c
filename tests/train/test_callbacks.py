"""Callbacks: EarlyStopping on any logged metric, in min, max or auto mode, restoring the best
weights; the tqdm ProgressBar on its own stream."""

import io

import pytest
import torch

from nnplay import data, models, train
from nnplay.train import EarlyStopping, TrainConfig, Trainer
from nnplay.train.callbacks import higher_is_better

# val_accuracy forced per epoch: highest at epoch 3, lowest at epoch 1
SCRIPT = [0.5, 0.7, 0.9, 0.8, 0.85, 0.6, 0.9, 0.95, 0.99, 0.99]


@pytest.fixture
def small():
    return data.load("moons", n=120, noise=0.2, test_size=0.3, seed=0)


class Scripted(train.Callback):
    """Overwrites val_accuracy with SCRIPT (before EarlyStopping reads it) and keeps each epoch's
    weights, so the restored ones can be compared."""

    def __init__(self, script=SCRIPT):
        self.script, self.states = script, {}

    def on_epoch_end(self, trainer, logs):
        logs["val_accuracy"] = self.script[logs["epoch"] - 1]
        self.states[logs["epoch"]] = {k: v.clone() for k, v in trainer.model.state_dict().items()}


def trainer_for(ds, callbacks, **config):
    train.seed_everything(0)
    net = models.mlp(ds.n_features, [8], ds.n_outputs)
    cfg = TrainConfig(lr=0.05, batch_size=0, epochs=len(SCRIPT), **config)
    return Trainer(net, ds, cfg, callbacks=callbacks)


@pytest.mark.parametrize("mode, stop_epoch, best_epoch", [
    ("max", 6, 3), ("auto", 6, 3),    # 0.9 at epoch 3, then 3 epochs without better
    ("min", 4, 1),                    # the same numbers read as a loss: epoch 1 was best
])
def test_early_stopping_on_val_accuracy_stops_at_the_right_epoch(small, mode, stop_epoch,
                                                                 best_epoch):
    scripted = Scripted()
    t = trainer_for(small, [scripted], early_stopping=3, early_stopping_monitor="val_accuracy",
                    early_stopping_mode=mode).fit()
    es = t.callbacks[-1]
    assert isinstance(es, EarlyStopping) and es.monitor == "val_accuracy"
    assert t.status == "early_stopped" and t.epoch == stop_epoch
    assert es.best_epoch_ == best_epoch and es.best_ == SCRIPT[best_epoch - 1]
    assert f"best epoch {best_epoch}" in t.stop_reason
    # restore_best: the weights are those of the best epoch, not of the last one
    for k, v in t.model.state_dict().items():
        assert torch.equal(v, scripted.states[best_epoch][k])
    assert any(not torch.equal(v, scripted.states[stop_epoch][k])
               for k, v in t.model.state_dict().items())


def test_early_stopping_keeps_its_state_across_run_chunks(small):
    t = trainer_for(small, [Scripted()], early_stopping=3, early_stopping_monitor="val_accuracy")
    while not t.done:
        t.run(epochs=1)
    assert t.status == "early_stopped" and t.epoch == 6 and t.callbacks[-1].best_epoch_ == 3


def test_early_stopping_resets_when_a_new_fit_starts(small):
    es = EarlyStopping(patience=2, monitor="val_accuracy", mode="max", restore_best=False)
    high = Scripted([0.99] + [0.1] * (len(SCRIPT) - 1))
    first = trainer_for(small, [high, es]).fit()
    assert first.status == "early_stopped" and es.best_ == 0.99
    low = Scripted([0.2, 0.3, 0.4, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    second = trainer_for(small, [low, es]).fit()
    # without a reset, 0.99 from the first fit would stop the second one after 2 epochs
    assert es.best_epoch_ == 4 and es.best_ == 0.5 and second.epoch == 6


def test_auto_mode_reads_the_metric_name():
    for name in ("val_accuracy", "accuracy", "val_r2", "val_auc", "f1_macro"):
        assert higher_is_better(name), name
    for name in ("val_loss", "loss", "val_rmse", "mae"):
        assert not higher_is_better(name), name
    assert higher_is_better("val_loss", "max") and not higher_is_better("val_r2", "min")


def test_bad_mode_or_monitor_is_a_clear_value_error(small):
    with pytest.raises(ValueError, match="early_stopping_mode must be one of min, max, auto"):
        TrainConfig(early_stopping=5, early_stopping_mode="maximum")
    with pytest.raises(ValueError, match="mode must be one of min, max, auto, got 'up'"):
        EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="early_stopping_monitor"):
        TrainConfig(early_stopping_monitor="")
    regression = data.load("plane", n=60, seed=0)
    t = trainer_for(regression, [], early_stopping=3, early_stopping_monitor="val_accuracy")
    with pytest.raises(ValueError, match="'val_accuracy'.*val_r2"):
        t.fit()


def test_config_defaults_keep_the_old_behaviour():
    cfg = TrainConfig(early_stopping=5)
    assert (cfg.early_stopping_monitor, cfg.early_stopping_mode) == ("val_loss", "auto")
    assert TrainConfig.from_dict({"early_stopping": 5}) == cfg


def test_progress_bar_writes_to_its_stream_and_closes_at_the_end(small):
    stream = io.StringIO()
    bar = train.ProgressBar(4, stream=stream)
    train.seed_everything(0)
    net = models.mlp(small.n_features, [8], small.n_outputs)
    t = Trainer(net, small, TrainConfig(epochs=4, batch_size=0), callbacks=[bar]).fit()
    text = stream.getvalue()
    assert t.status == "completed" and "4/4" in text and "loss=" in text
    assert bar.bar_ is None  # closed when the fit ended
    assert repr(bar) == "ProgressBar(total=4)"
