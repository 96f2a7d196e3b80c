"""Train the small checkpoints the app ships in assets/checkpoints/, so a page can open with a
trained model at once. Run from the project root: `.venv/bin/python assets/make_checkpoints.py`.

Each checkpoint is a model zip (nnplay.models.modelio.export_bundle: weights + record JSON),
trained here on data that ships inside installed packages, with a fixed seed: running this again
gives the same weights on the same versions of torch and the data.
"""

from __future__ import annotations

from pathlib import Path

from nnplay import data
from nnplay.lessons import robustness
from nnplay.models import modelio
from nnplay.train import TrainConfig, evaluate
from nnplay.train.quick import quick_trainer
from nnplay.train.workspace import Workspace

HERE = Path(__file__).resolve().parent / "checkpoints"


def robustness_mnist5k_cnn() -> Path:
    """The Robustness page's default image model: a small CNN, 3 epochs of Adam on mnist5k."""
    ds = data.load("mnist5k")
    config = TrainConfig(optimizer="adam", lr=1e-3, batch_size=64, epochs=3, seed=0)
    trainer = quick_trainer(ds, robustness.image_spec(ds, "cnn"), config).fit()
    entry = Workspace().register(trainer.model, ds, trainer.spec, "robustness",
                                 name="CNN on mnist5k (shipped)", train_config=config,
                                 history=trainer.history_copy(),
                                 metrics=evaluate(trainer.model, ds))
    path = robustness.CHECKPOINT
    path.write_bytes(modelio.export_bundle(entry.model, entry.record, entry.dataset))
    print(f"{path.name}: test accuracy {entry.metrics['accuracy']:.3f}, "
          f"{path.stat().st_size / 1024:.0f} KiB")
    return path


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    robustness_mnist5k_cnn()
