"""nnplay.responsible.robustness: FGSM and PGD on a trained mnist5k MLP, corruptions, tabular damage and
adversarial training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.robust import FGSM

from nnplay import data
from nnplay.responsible import robustness as rob
from nnplay.train import TrainConfig, evaluate, predict
from nnplay.train.quick import quick_trainer

N_EVAL = 300


@pytest.fixture(scope="module")
def mnist():
    """A 784-64-10 MLP trained for 3 epochs (about 90% test accuracy) and 300 test images."""
    ds = data.load("mnist5k")
    cfg = TrainConfig(optimizer="adam", lr=1e-3, batch_size=64, epochs=3, seed=0)
    model = quick_trainer(ds, {"family": "mlp", "params": {"hidden": [64]}}, cfg).fit().model
    assert evaluate(model, ds)["accuracy"] > 0.85
    return ds, model, ds.X_test[:N_EVAL], ds.y_test[:N_EVAL]


def test_fgsm_eps_zero_changes_nothing_and_accuracy_falls_with_eps(mnist):
    _, model, X, y = mnist
    assert np.array_equal(rob.fgsm(model, X, y, 0.0), X)
    curve = rob.accuracy_under_attack(model, X, y, [0.0, 0.05, 0.1, 0.2], "fgsm")
    clean = float(np.mean(predict(model, X) == y))
    acc = curve["accuracy"].to_numpy()
    assert acc[0] == pytest.approx(clean)
    assert np.all(np.diff(acc) < 0)
    assert acc[2] < clean - 0.3   # eps 0.1 fools a plain MLP on many digits


def test_pgd_is_at_least_as_strong_as_fgsm(mnist):
    _, model, X, y = mnist
    eps_list = [0.03, 0.06, 0.1]
    fgsm_acc = rob.accuracy_under_attack(model, X, y, eps_list, "fgsm")["accuracy"].to_numpy()
    pgd_acc = rob.accuracy_under_attack(model, X, y, eps_list, "pgd", steps=10)["accuracy"]
    assert np.all(pgd_acc.to_numpy() <= fgsm_acc)


def test_attacks_stay_in_the_eps_ball_and_the_valid_range(mnist):
    _, model, X, y = mnist
    for attack in (lambda: rob.fgsm(model, X[:50], y[:50], 0.1),
                   lambda: rob.pgd(model, X[:50], y[:50], 0.1, steps=5, random_start=True)):
        adv = attack()
        assert isinstance(adv, np.ndarray) and adv.shape == X[:50].shape
        assert np.abs(adv - X[:50]).max() <= 0.1 + 1e-6
        assert adv.min() >= 0.0 and adv.max() <= 1.0
        assert np.abs(adv - X[:50]).max() > 0.09
    tensor = rob.pgd(model, torch.as_tensor(X[:5]), torch.as_tensor(y[:5]), 0.0)
    assert isinstance(tensor, torch.Tensor) and torch.equal(tensor, torch.as_tensor(X[:5]))
    with pytest.raises(ValueError, match="eps"):
        rob.fgsm(model, X[:5], y[:5], -0.1)


@pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients")
def test_fgsm_equals_captum(mnist):
    _, model, X, y = mnist
    x, t = torch.as_tensor(X[:40]), torch.as_tensor(y[:40])
    reference = FGSM(model, loss_func=torch.nn.CrossEntropyLoss(reduction="none"),
                     lower_bound=0.0, upper_bound=1.0).perturb(x, epsilon=0.07, target=t).detach()
    ours = rob.fgsm(model, x, t, 0.07)
    # Captum sums per-row losses where we average, so a gradient that is zero up to rounding
    # can take either sign; everywhere the gradient is not negligible the two agree exactly.
    x_grad = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(torch.nn.functional.cross_entropy(model(x_grad), t), x_grad)
    clear = grad.abs() > 1e-4 * grad.abs().max()
    assert clear.float().mean() > 0.9
    torch.testing.assert_close(ours[clear], reference[clear])


def test_corruption_severity_zero_changes_nothing(mnist):
    _, model, X, y = mnist
    for kind in rob.CORRUPTIONS:
        assert np.array_equal(rob.corrupt(X[:20], kind, 0.0), X[:20])
        damaged = rob.corrupt(X[:20], kind, 0.6, seed=1)
        assert damaged.shape == X[:20].shape and not np.allclose(damaged, X[:20])
        assert damaged.min() >= 0.0 and damaged.max() <= 1.0
        assert np.array_equal(damaged, rob.corrupt(X[:20], kind, 0.6, seed=1))
    curve = rob.corruption_curve(model, X, y, ["rotation", "contrast"], [0.0, 1.0])
    at_zero = curve.loc[curve["severity"] == 0.0, "accuracy"].to_numpy()
    np.testing.assert_allclose(at_zero, np.mean(predict(model, X) == y))
    rotated = curve.query("corruption == 'rotation' and severity == 1.0")["accuracy"].item()
    assert rotated < at_zero[0] - 0.4
    with pytest.raises(ValueError, match="Unknown corruption"):
        rob.corrupt(X[:2], "fog", 0.5)
    with pytest.raises(ValueError, match="severity"):
        rob.corrupt(X[:2], "blur", 1.5)


def test_tabular_damage():
    ds = data.load("breast_cancer")
    cfg = TrainConfig(optimizer="adam", lr=0.01, batch_size=32, epochs=15, seed=0)
    model = quick_trainer(ds, {"family": "mlp", "params": {"hidden": [16]}}, cfg).fit().model
    metrics = evaluate(model, ds)
    assert np.array_equal(rob.tabular_noise(ds.X_test, 0.0), ds.X_test)
    assert np.array_equal(rob.with_missing_values(ds.X_test, 0.0), ds.X_test)
    filled = rob.with_missing_values(ds.X_test, 1.0, fill_values=np.arange(ds.n_features))
    assert np.array_equal(filled[3], np.arange(ds.n_features, dtype=np.float32))
    noise = rob.tabular_curve(model, ds.X_test, ds.y_test, "noise", [0.0, 3.0])
    assert noise["accuracy"].iloc[0] == pytest.approx(metrics["accuracy"])
    assert noise["accuracy"].iloc[1] < noise["accuracy"].iloc[0] - 0.05
    missing = rob.tabular_curve(model, ds.X_test, ds.y_test, "missing", [0.0, 1.0])
    # Every cell at the training mean leaves one constant row: the model predicts one class.
    majority = max(np.mean(ds.y_test == 0), np.mean(ds.y_test == 1))
    assert missing["accuracy"].iloc[1] <= majority + 1e-9
    with pytest.raises(ValueError, match="between 0 and 1"):
        rob.with_missing_values(ds.X_test, 1.5)


def test_adversarial_finetune_raises_robust_accuracy_and_keeps_the_original(mnist):
    ds, model, _, _ = mnist
    before = [p.detach().clone() for p in model.parameters()]
    robust, history = rob.adversarial_finetune(model, ds, eps=0.1, epochs=2, eval_size=N_EVAL)
    assert [h["epoch"] for h in history] == [0, 1, 2]
    assert history[-1]["robust_accuracy"] > history[0]["robust_accuracy"] + 0.05
    assert history[-1]["clean_accuracy"] > 0.8
    assert robust is not model
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_galleries_keep_square_pixels():
    from nnplay.plots.robustness import corruption_gallery_figure

    image = np.zeros((1, 28, 28), dtype=np.float32)
    fig = corruption_gallery_figure({"blur": [image, image]}, [0.0, 1.0])
    for axis in ("yaxis", "yaxis2"):
        y = fig.layout[axis]
        assert y.scaleanchor == y.anchor and y.scaleratio == 1
