"""Pruning: removing weights (unstructured) or whole neurons and channels (structured).

- ``prune_unstructured``: global magnitude pruning with ``torch.nn.utils.prune``: the smallest
  weights of all layers together become zeros. The tensors keep their shapes, so the file is as
  large as before and a dense CPU kernel multiplies the zeros just the same: no speed-up.
- ``prune_structured``: torch-pruning's DependencyGraph finds every tensor that shares a
  channel (a conv's filters, the next layer's inputs, a batch norm's statistics) and removes the
  channels and neurons with the smallest L2 norm from all of them at once: smaller matrices, a
  smaller file, and fewer multiplications. A short fine-tune (``fine_tune``) recovers accuracy.
- ``lottery_ticket``: the experiment of Frankle and Carbin (2019): train, prune, rewind the kept
  weights to their initial values and retrain, against the same mask on a fresh initialisation.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from nnplay.production.compress.quantize import check_feedforward

MAX_SPARSITY = 0.99     # unstructured: zeroing every weight leaves no model
MAX_STRUCTURED = 0.9    # structured: the share of each layer's channels removed
SPARSITY_CURVE = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98)
_NOT_PRUNED = (nn.Embedding, nn.EmbeddingBag, nn.LayerNorm, nn.BatchNorm1d, nn.BatchNorm2d)


def check_amount(amount: float, largest: float, what: str) -> float:
    """``amount`` as a float in [0, largest]; ValueError with what to change otherwise."""
    try:
        value = float(amount)
    except (TypeError, ValueError):
        raise ValueError(f"The {what} is a share between 0 and {largest:g}, got {amount!r}.") \
            from None
    if not 0.0 <= value <= largest or not np.isfinite(value):
        raise ValueError(f"The {what} must be between 0% and {largest:.0%}, got {value:.0%}"
                         f"{'' if value < 1 else ' (nothing would be left)'}.")
    return value


def prunable_weights(model: nn.Module) -> list[tuple[nn.Module, str]]:
    """(module, parameter name) of every weight matrix or filter bank: Linear, Conv, recurrent
    and attention weights; not embeddings or normalisation scales."""
    pairs = []
    for module in model.modules():
        if isinstance(module, _NOT_PRUNED):
            continue
        for name, p in module.named_parameters(recurse=False):
            if "weight" in name and p.dim() > 1:   # "weight_orig": masked by torch's pruning
                pairs.append((module, name.removesuffix("_orig")))
    return pairs


def sparsity(model: nn.Module) -> float:
    """The share of zeros among the prunable weights (0.0 for a model with none)."""
    tensors = [getattr(m, name) for m, name in prunable_weights(model)]
    total = sum(t.numel() for t in tensors)
    return float(sum(int((t == 0).sum()) for t in tensors) / total) if total else 0.0


def prune_unstructured(model: nn.Module, amount: float, keep_mask: bool = False) -> nn.Module:
    """A copy with the ``amount`` share of its weights (smallest magnitude, over all layers
    together) set to zero. ``keep_mask=True`` leaves torch's pruning mask in place, so training
    keeps the zeros at zero; otherwise the zeros are made permanent."""
    amount = check_amount(amount, MAX_SPARSITY, "share of weights to prune")
    net = copy.deepcopy(model).cpu().eval()
    pairs = prunable_weights(net)
    if not pairs:
        raise ValueError("This model has no weight matrices to prune.")
    torch_prune.global_unstructured(pairs, pruning_method=torch_prune.L1Unstructured,
                                    amount=amount)
    if not keep_mask:
        remove_masks(net)
    return net


def remove_masks(model: nn.Module) -> nn.Module:
    """Make pruning masks permanent: plain weights with zeros, no mask buffers or hooks."""
    for module in model.modules():
        for name in [n[:-5] for n, _ in module.named_parameters(recurse=False)
                     if n.endswith("_orig")]:
            torch_prune.remove(module, name)
    return model


def sparsity_curve(model: nn.Module, X, y, task: str,
                   amounts=SPARSITY_CURVE) -> pd.DataFrame:
    """The test metric after global magnitude pruning at each amount (no retraining):
    columns amount, sparsity, score."""
    from nnplay.production.compress.measurement import TorchRunner, score

    rows = []
    for amount in amounts:
        net = prune_unstructured(model, amount)
        value = score(TorchRunner(net).outputs(np.asarray(X)), y, task)
        rows.append({"amount": float(amount), "sparsity": sparsity(net),
                     "score": None if np.isnan(value) else value})
    return pd.DataFrame(rows)


# ---- structured ---------------------------------------------------------------------------------
def layer_widths(model: nn.Module) -> list[int]:
    """The output width of every Linear and Conv layer in order (channels or neurons)."""
    return [m.out_features if isinstance(m, nn.Linear) else m.out_channels
            for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d))]


def _refresh_sizes(model: nn.Module) -> None:
    """Make an nnplay MLP's or CNN's size attributes (its repr, its spec) match its layers."""
    from nnplay.models.cnn import CNN
    from nnplay.models.mlp import MLP

    if isinstance(model, MLP):
        model.hidden = [lin.out_features for lin in model.linear_layers()[:-1]]
    elif isinstance(model, CNN):
        model.channels = [conv.out_channels for conv in model.conv_layers()]
        model.hidden = [m.out_features for m in model.head if isinstance(m, nn.Linear)][:-1]
        model.feature_shape = (model.channels[-1], *model.feature_shape[1:])


def pruned_spec(spec, model: nn.Module):
    """The ModelSpec that builds a network shaped like the pruned ``model`` (same settings,
    the new widths), so a pruned MLP or CNN can be saved and loaded like any other."""
    from nnplay.models.cnn import CNN
    from nnplay.models.mlp import MLP
    from nnplay.models.registry import ModelSpec

    spec = ModelSpec.of(spec)
    params = dict(spec.params)
    if isinstance(model, MLP) and spec.family == "mlp":
        params["hidden"] = list(model.hidden)
    elif isinstance(model, CNN) and spec.family == "cnn":
        params["channels"], params["hidden"] = list(model.channels), list(model.hidden)
    else:
        raise ValueError(f"Only pruned nnplay MLPs and CNNs get a spec; this is a "
                         f"{type(model).__name__} from a {spec.family} spec.")
    return ModelSpec(spec.family, params)


def prune_structured(model: nn.Module, amount: float, example_input, fine_tune_epochs: int = 0,
                     dataset=None, lr: float = 1e-3, progress=None, should_stop=None) -> nn.Module:
    """A smaller copy: the ``amount`` share of every layer's channels (conv) and neurons
    (Linear) removed, smallest L2 norm first; the input and the output layer keep their size.
    ``fine_tune_epochs`` on ``dataset`` afterwards (0: none)."""
    import torch_pruning as tp

    amount = check_amount(amount, MAX_STRUCTURED, "share of channels to remove")
    check_feedforward(model, "Structured pruning")
    net = copy.deepcopy(model).cpu().eval()
    layers = [m for m in net.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d))]
    if len(layers) < 2:
        raise ValueError("Structured pruning needs a hidden layer: this model maps its inputs "
                         "straight to its outputs, and those keep their size.")
    x = torch.as_tensor(np.ascontiguousarray(np.asarray(example_input)[:1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pruner = tp.pruner.BasePruner(net, x.float() if x.is_floating_point() else x,
                                      importance=tp.importance.MagnitudeImportance(p=2),
                                      pruning_ratio=amount, ignored_layers=[layers[-1]])
        pruner.step()
    _refresh_sizes(net)
    if fine_tune_epochs:
        if dataset is None:
            raise ValueError("Fine-tuning needs the dataset to train on.")
        fine_tune(net, dataset, fine_tune_epochs, lr=lr, progress=progress,
                  should_stop=should_stop)
    return net.eval()


def fine_tune(model: nn.Module, dataset, epochs: int, lr: float = 1e-3, batch_size: int = 64,
              seed: int = 0, progress=None, should_stop=None) -> nn.Module:
    """Train ``model`` in place for a few epochs on the CPU with Adam at a small rate (a pruning
    mask, when there is one, keeps pruned weights at zero); returns it in eval mode. Stopping
    raises nnplay.train.jobs.Cancelled after the current epoch, with what was learned kept."""
    from nnplay.train.config import TrainConfig
    from nnplay.train.jobs import fit_stoppable
    from nnplay.train.trainer import Trainer

    config = TrainConfig(optimizer="adam", lr=lr, batch_size=batch_size, epochs=int(epochs),
                         seed=seed, device="cpu")
    fit_stoppable(Trainer(model, dataset, config), progress, should_stop)
    return model.eval()


def lottery_ticket(spec, dataset, amount: float = 0.8, epochs: int = 5, seed: int = 0,
                   lr: float = 0.01, progress=None, should_stop=None) -> pd.DataFrame:
    """Frankle and Carbin's experiment on a fresh network built from ``spec``: train it from
    its initial weights, prune ``amount`` of the weights by magnitude, then retrain the pruned
    network (a) from the same initial weights ("winning ticket") and (b) from a new random
    initialisation, for as many epochs. Columns: model, sparsity, score."""
    from nnplay.models.registry import ModelSpec
    from nnplay.production.compress.measurement import TorchRunner, score
    from nnplay.train.jobs import progress_part
    from nnplay.train.trainer import seed_everything

    amount = check_amount(amount, MAX_SPARSITY, "share of weights to prune")
    spec = ModelSpec.of(spec)
    seed_everything(seed)
    dense = spec.build(dataset)
    initial = copy.deepcopy(dense.state_dict())
    total = 3 * int(epochs)

    def test_score(net: nn.Module) -> float:
        value = score(TorchRunner(net.eval()).outputs(dataset.X_test), dataset.y_test,
                      dataset.task)
        return None if np.isnan(value) else value

    def retrain(start: dict, done_before: int) -> nn.Module:
        net = spec.build(dataset)
        net.load_state_dict(start)
        pairs = prunable_weights(net)
        for (module, name), mask in zip(pairs, masks):
            torch_prune.custom_from_mask(module, name, mask)
        fine_tune(net, dataset, epochs, lr=lr, seed=seed,
                  progress=progress_part(progress, done_before, total), should_stop=should_stop)
        return remove_masks(net)

    fine_tune(dense, dataset, epochs, lr=lr, seed=seed, progress=progress_part(progress, 0, total),
              should_stop=should_stop)
    pruned = prune_unstructured(dense, amount, keep_mask=True)
    masks = [getattr(m, f"{name}_mask").clone() for m, name in prunable_weights(pruned)]
    rows = [{"model": "dense, trained", "sparsity": 0.0, "score": test_score(dense)},
            {"model": "pruned, not retrained", "sparsity": sparsity(pruned),
             "score": test_score(remove_masks(pruned))}]
    ticket = retrain(initial, epochs)
    rows.append({"model": "pruned, rewound to its initial weights and retrained",
                 "sparsity": sparsity(ticket), "score": test_score(ticket)})
    seed_everything(seed + 1)
    fresh = spec.build(dataset).state_dict()
    control = retrain(fresh, 2 * epochs)
    rows.append({"model": "pruned, new random weights and retrained",
                 "sparsity": sparsity(control), "score": test_score(control)})
    return pd.DataFrame(rows)
