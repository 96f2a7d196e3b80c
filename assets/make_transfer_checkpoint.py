"""Train the Lab: transfer learning's own pretrained network, shipped in assets/checkpoints/:
nnplay's small CNN (the nnplay_cnn backbone) trained on mnist5k's digits 0-4, which the lab then
transfers to the digits 5-9. Run from the project root:
`.venv/bin/python assets/make_transfer_checkpoint.py`.

The checkpoint is a model zip (nnplay.models.modelio.export_bundle: weights + record JSON), so
"Your models" can load it too; nnplay.models.pretrained reads only its weights. Same seed, same
torch and data: same weights. Without this file the lab trains the CNN once and caches it.
"""

from __future__ import annotations

import time

from nnplay.models import modelio, pretrained
from nnplay.models.registry import ModelSpec
from nnplay.train import evaluate
from nnplay.train.workspace import Workspace


def transfer_digits_0to4_cnn():
    start = time.perf_counter()
    trainer = pretrained.pretrain_digits_cnn(seed=0)
    spec = ModelSpec("cnn", {k: list(v) for k, v in pretrained.DIGITS_CNN.items()})
    entry = Workspace().register(trainer.model, trainer.dataset, spec, "lab_transfer",
                                 name="CNN on digits 0-4 (shipped)", train_config=trainer.config,
                                 history=trainer.history_copy(),
                                 metrics=evaluate(trainer.model, trainer.dataset))
    path = pretrained.DIGITS_CHECKPOINT
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(modelio.export_bundle(entry.model, entry.record, entry.dataset))
    print(f"{path.name}: test accuracy {entry.metrics['accuracy']:.3f} on digits 0-4, "
          f"{path.stat().st_size / 1024:.0f} KiB, {time.perf_counter() - start:.0f} s")
    return path


if __name__ == "__main__":
    transfer_digits_0to4_cnn()
