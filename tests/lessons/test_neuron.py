"""Tests for nnplay.lessons.neuron: parity with torch for the neuron, activations and losses, and the
perceptron learning its toy data."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nnplay.lessons import neuron
from nnplay.models.activations import ACTIVATIONS, activation_module

# ------------------------------------------------------------------------------------ one neuron


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_neuron_forward_equals_torch_linear_and_activation(activation):
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=3), rng.normal(size=3), float(rng.normal())
    layer = nn.Linear(3, 1).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(w).unsqueeze(0))
        layer.bias.fill_(b)
        expected_z = layer(torch.tensor(x))
        expected_a = activation_module(activation)(expected_z)
    out = neuron.neuron_forward(x, w, b, activation)
    assert out.z == pytest.approx(expected_z.item(), abs=1e-12)
    assert out.a == pytest.approx(expected_a.item(), abs=1e-12)


def test_neuron_forward_known_numbers_and_bad_input():
    out = neuron.neuron_forward([1.0, 2.0], [0.5, -0.25], 0.1, "relu")
    assert out.z == pytest.approx(0.1)
    assert out.a == pytest.approx(0.1)
    assert neuron.neuron_forward([1.0, 2.0], [0.5, -0.5], 0.1, "relu").a == 0.0
    with pytest.raises(ValueError, match="one weight per input"):
        neuron.neuron_forward([1.0, 2.0, 3.0], [0.5, 0.5], 0.0)
    with pytest.raises(ValueError, match="Unknown activation"):
        neuron.neuron_forward([1.0], [1.0], 0.0, "swish-ish")


def test_neuron_latex_shows_the_computed_numbers():
    x, w, b = [1.0, -2.0, 0.5], [0.3, 0.4, -1.0], 0.2
    out = neuron.neuron_forward(x, w, b, "sigmoid")
    sum_line, act_line = neuron.neuron_latex(x, w, b, "sigmoid")
    assert "w_3 x_3" in sum_line and "(0.40)(-2.00)" in sum_line
    assert sum_line.endswith(f"= {out.z:.2f}")
    assert act_line.endswith(f"= {out.a:.2f}") and r"\frac{1}{1+e^{-z}}" in act_line


# ---------------------------------------------------------------------------------- activations


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_activation_derivative_matches_finite_differences(activation):
    z, f, df = neuron.activation_curve(activation, -5.0, 5.0, n=101)
    away_from_kink = np.abs(z) > 0.05   # relu and leaky relu have no derivative at 0
    h = 1e-6
    zt = torch.tensor(z, dtype=torch.float64)
    fn = activation_module(activation)
    numeric = ((fn(zt + h) - fn(zt - h)) / (2 * h)).numpy()
    np.testing.assert_allclose(df[away_from_kink], numeric[away_from_kink], atol=1e-6)
    np.testing.assert_allclose(f, fn(zt).numpy(), atol=1e-12)


def test_activation_curve_rejects_empty_range():
    with pytest.raises(ValueError, match="larger than z_min"):
        neuron.activation_curve("tanh", 2.0, 1.0)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_saturating_regions_found_in_both_tails(activation):
    z, _, df = neuron.activation_curve(activation, -6.0, 6.0)
    regions = neuron.saturating_regions(z, df, threshold=0.05)
    assert len(regions) == 2
    (lo_left, hi_left), (lo_right, hi_right) = regions
    assert lo_left == -6.0 and -3.5 < hi_left < -1.5
    assert hi_right == 6.0 and 1.5 < lo_right < 3.5
    assert np.all(np.abs(df[(z > hi_left) & (z < lo_right)]) >= 0.05)


def test_saturation_linear_has_none_and_relu_is_flat_for_negative_z():
    z, _, df = neuron.activation_curve("linear")
    assert neuron.saturating_regions(z, df) == []
    assert neuron.saturation_fraction(z, df) == 0.0
    z, _, df = neuron.activation_curve("relu", -6.0, 6.0)
    ((lo, hi),) = neuron.saturating_regions(z, df)
    assert lo == -6.0 and -0.1 < hi <= 0.0
    assert neuron.saturation_fraction(z, df) == pytest.approx(0.5, abs=0.01)
    with pytest.raises(ValueError, match="threshold"):
        neuron.saturating_regions(z, df, threshold=0.0)


# ---------------------------------------------------------------------------------------- losses


@pytest.mark.parametrize("name, torch_fn, grad_fn", [
    ("mse", lambda p, y: F.mse_loss(p, y, reduction="none"), lambda p, y: 2 * (p - y)),
    ("mae", lambda p, y: F.l1_loss(p, y, reduction="none"), lambda p, y: np.sign(p - y)),
    ("huber", lambda p, y: F.huber_loss(p, y, reduction="none", delta=0.7),
     lambda p, y: np.clip(p - y, -0.7, 0.7)),
])
def test_regression_losses_equal_torch_functional(name, torch_fn, grad_fn):
    target = 0.3
    preds = np.linspace(-3.0, 3.0, 37) + 0.013   # keep MAE off its kink at the target
    grid, loss, grad = neuron.loss_curve(name, target, preds, delta=0.7)
    expected = torch_fn(torch.tensor(preds), torch.full((len(preds),), target, dtype=torch.float64))
    np.testing.assert_allclose(grid, preds)
    np.testing.assert_allclose(loss, expected.numpy(), atol=1e-12)
    np.testing.assert_allclose(grad, grad_fn(preds, target), atol=1e-12)


@pytest.mark.parametrize("target", [0.0, 1.0, 0.25])
def test_binary_cross_entropy_equals_torch_and_its_gradient(target):
    p = np.linspace(0.05, 0.95, 19)
    _, loss, grad = neuron.loss_curve("bce", target, p)
    expected = F.binary_cross_entropy(torch.tensor(p), torch.full((19,), target, dtype=torch.float64),
                                      reduction="none")
    np.testing.assert_allclose(loss, expected.numpy(), atol=1e-12)
    np.testing.assert_allclose(grad, -target / p + (1 - target) / (1 - p), rtol=1e-10)


@pytest.mark.parametrize("true_class", [0, 2])
def test_cross_entropy_equals_torch_on_the_full_distribution(true_class):
    p = np.linspace(0.02, 0.98, 25)
    _, loss, grad = neuron.loss_curve("cross_entropy", true_class, p)
    probs = np.repeat(((1 - p) / 2)[:, None], 3, axis=1)
    probs[:, true_class] = p
    logits = torch.log(torch.tensor(probs))   # any logits with this softmax would do
    expected = F.cross_entropy(logits, torch.full((25,), true_class), reduction="none")
    np.testing.assert_allclose(loss, expected.numpy(), atol=1e-12)
    np.testing.assert_allclose(loss, -np.log(p), atol=1e-12)
    np.testing.assert_allclose(grad, -1 / p, rtol=1e-10)


def test_default_prediction_grids_and_comparisons():
    preds, _, _ = neuron.loss_curve("mse", 2.0)
    assert preds.min() <= -4.0 and preds.max() >= 5.0
    preds, loss, _ = neuron.loss_curve("bce", 1.0)
    assert 0 < preds.min() and preds.max() < 1 and np.all(np.isfinite(loss))
    curves = neuron.loss_curves("huber", 0.0, delta=0.5)
    assert list(curves) == ["Huber", "Mean squared error", "Mean absolute error"]
    curves = neuron.loss_curves("cross_entropy", 1, compare=True)
    (ce_label, ce), (se_label, se) = curves.items()
    np.testing.assert_allclose(se[1], (ce[0] - 1.0) ** 2)
    # Confidently wrong: cross-entropy pushes far harder than squared error on p.
    assert abs(ce[2][0]) > 50 * abs(se[2][0])
    assert list(neuron.loss_curves("mse", 0.0, compare=False)) == ["Mean squared error"]


@pytest.mark.parametrize("name, target, preds, delta, message", [
    ("hinge", 0.0, None, 1.0, "Unknown loss"),
    ("huber", 0.0, None, 0.0, "delta"),
    ("bce", 2.0, None, 1.0, "between 0 and 1"),
    ("cross_entropy", 3, None, 1.0, "true class"),
    ("cross_entropy", 0.5, None, 1.0, "true class"),
    ("bce", 1.0, [0.0, 0.5], 1.0, "strictly between"),
    ("mse", 1.0, [np.nan], 1.0, "finite"),
])
def test_loss_curve_rejects_bad_input(name, target, preds, delta, message):
    with pytest.raises(ValueError, match=message):
        neuron.loss_curve(name, target, preds, delta=delta)


# ------------------------------------------------------------------------------------ perceptron


def test_perceptron_data_is_deterministic_two_class_2d():
    X, y = neuron.perceptron_data(n=120, seed=3)
    X2, y2 = neuron.perceptron_data(n=120, seed=3)
    assert X.shape == (120, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, neuron.perceptron_data(n=120, seed=4)[0])


def test_decision_accuracy_of_a_good_and_a_flipped_line():
    X, y = neuron.perceptron_data()
    # The blobs sit around (-1.5, -1) and (1.5, 1.5): a line between them separates them.
    good = neuron.decision_accuracy(X, y, [1.0, 1.0], -0.25)
    assert good >= 0.95
    assert neuron.decision_accuracy(X, y, [-1.0, -1.0], 0.25) == pytest.approx(1 - good, abs=0.01)
    with pytest.raises(ValueError, match="columns"):
        neuron.decision_accuracy(X, y, [1.0, 1.0, 1.0], 0.0)


def test_decision_line_latex_fills_in_the_numbers():
    assert neuron.decision_line_latex([0.5, -1.25], 0.3) == (
        r"(0.50)\,x_1 + (-1.25)\,x_2 + (0.30) = 0")


def test_fit_perceptron_learns_the_separable_data_and_is_reproducible():
    X, y = neuron.perceptron_data(n=200, seed=0)
    w, b = neuron.fit_perceptron(X, y, epochs=10, lr=0.1, seed=0)
    assert neuron.decision_accuracy(X, y, w, b) >= 0.95
    assert np.linalg.norm(w) == pytest.approx(1.0)
    # The page rounds to the sliders' step; the rounded line must still be good.
    assert neuron.decision_accuracy(X, y, np.round(w, 2), round(b, 2)) >= 0.95
    w2, b2 = neuron.fit_perceptron(X, y, epochs=10, lr=0.1, seed=0)
    np.testing.assert_array_equal(w, w2)
    assert b == b2


def test_perceptron_estimator_follows_sklearn_conventions():
    X, y = neuron.perceptron_data(n=100, seed=1)
    model = neuron.Perceptron(lr=0.5, epochs=5, seed=2)
    assert not hasattr(model, "coef_")
    assert model.fit(X, y) is model
    assert len(model.accuracy_history_) == 5 and model.n_updates_ > 0
    assert model.score(X, y) == max(model.accuracy_history_) >= 0.95
    assert np.mean(model.predict(X) == y) == model.score(X, y)
    with pytest.raises(ValueError, match="labels 0 and 1"):
        neuron.Perceptron().fit(X, y + 1)
    with pytest.raises(ValueError, match="epochs"):
        neuron.Perceptron(epochs=0).fit(X, y)


def test_engine_modules_do_not_need_streamlit():
    code = ("import sys; sys.modules['streamlit'] = None; "
            "import nnplay.lessons.neuron, nnplay.plots.neuron")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


def test_no_line_separates_xor_but_one_separates_the_blobs():
    X, y = neuron.perceptron_data(200, seed=0, kind="xor")
    assert set(y) == {0, 1} and abs(y.mean() - 0.5) < 0.15
    assert neuron.best_line_accuracy(X, y) < 0.8
    Xb, yb = neuron.perceptron_data(200, seed=0)
    assert neuron.best_line_accuracy(Xb, yb) > 0.95
    w, b = neuron.fit_perceptron(X, y, epochs=20, seed=0)
    assert neuron.decision_accuracy(X, y, w, b) <= neuron.best_line_accuracy(X, y) + 1e-9


def test_the_learners_point_stays_on_the_gradient_chart():
    from nnplay.plots.neuron import loss_figure

    curves = neuron.loss_curves("bce", 1.0)
    _, loss_at, grad_at = neuron.loss_curve("bce", 1.0, [0.01])
    fig = loss_figure(curves, "p", point=(0.01, float(loss_at[0]), float(grad_at[0])))
    low, high = fig.layout.yaxis2.range
    assert low <= grad_at[0] <= high and grad_at[0] < -25
