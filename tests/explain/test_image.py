"""Attribution maps: shapes, parity with autograd, IG completeness, zero where input = baseline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

from nnplay import explain


class TinyCNN(nn.Module):
    """A conv layer and a linear head: enough for Grad-CAM, fast enough for tests."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.head = nn.Sequential(nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 10))

    def forward(self, x):
        return self.head(self.conv(x))


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:20] / 16.0).reshape(-1, 1, 8, 8).astype(np.float32), y[:20]


@pytest.fixture(scope="module")
def cnn():
    torch.manual_seed(0)
    return TinyCNN().eval()


@pytest.mark.parametrize("method", explain.METHODS)
def test_every_method_returns_a_tensor_shaped_like_x(cnn, digits, method):
    X, _ = digits
    attr = explain.attribution(cnn, X[:3], target=[1, 2, 3], method=method)
    assert isinstance(attr, torch.Tensor) and attr.shape == X[:3].shape
    assert torch.isfinite(attr).all() and attr.abs().sum() > 0


def test_saliency_equals_the_autograd_gradient(cnn, digits):
    X, _ = digits
    x = torch.as_tensor(X[:2]).requires_grad_()
    cnn(x)[:, 5].sum().backward()
    sal = explain.attribution(cnn, X[:2], target=5, method="saliency")
    torch.testing.assert_close(sal, x.grad.abs())


def test_integrated_gradients_completeness_within_5_percent(cnn, digits):
    X, _ = digits
    target = cnn(torch.as_tensor(X[:6])).argmax(1)
    attr = explain.attribution(cnn, X[:6], target, "integrated_gradients", n_steps=64)
    check = explain.completeness_frame(cnn, X[:6], target, attr)
    assert (check["relative_gap"] < 0.05).all(), check
    manual = explain.target_output(cnn, X[:6], target) - explain.target_output(
        cnn, np.zeros_like(X[:6]), target)
    np.testing.assert_allclose(check["output_difference"], manual.numpy())


def test_attribution_is_zero_where_the_input_equals_the_baseline(cnn, digits):
    X, _ = digits
    at_baseline = X[:4] == 0           # digits have many blank (zero) pixels
    assert at_baseline.sum() > 50
    ig = explain.attribution(cnn, X[:4], 3, "integrated_gradients").numpy()
    assert np.all(ig[at_baseline] == 0) and np.abs(ig[~at_baseline]).max() > 0
    occ = explain.attribution(cnn, X[:4], 3, "occlusion", window=(1, 1, 1), stride=(1, 1, 1))
    # occluding a pixel that already equals the baseline changes the output only by float32
    # rounding between batched forward passes (captum evaluates perturbations in batches)
    occ = occ.numpy()
    assert np.abs(occ[at_baseline]).max() < 1e-6 < np.abs(occ[~at_baseline]).max()
    grey = np.full_like(X[:1], 0.5)    # a non-zero baseline: pixels equal to it get nothing
    mixed = X[:1].copy()
    mixed[..., :4] = 0.5
    ig_grey = explain.attribution(cnn, mixed, 3, "integrated_gradients", baseline=grey).numpy()
    assert np.all(ig_grey[..., :4] == 0)


def test_gradcam_needs_a_conv_layer_and_occlusion_reports_progress(cnn, digits):
    X, _ = digits
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    with pytest.raises(ValueError, match="convolutional"):
        explain.attribution(mlp, X[:1], 0, "gradcam")
    assert explain.gradient_methods(mlp) == ("saliency", "integrated_gradients")
    assert "gradcam" in explain.gradient_methods(cnn)
    with pytest.raises(ValueError, match="Unknown method"):
        explain.attribution(cnn, X[:1], 0, "deeplift")
    with pytest.raises(ValueError, match="batch"):
        explain.attribution(cnn, X[0, 0, 0], 0)
    seen = []
    explain.attribution(cnn, X[:1], 0, "occlusion", progress=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1][0] == seen[-1][1]


def test_lime_image_weights_are_constant_over_each_segment(cnn, digits):
    X, _ = digits
    res = explain.lime_explanation(cnn, X[0], num_samples=200, seed=0)
    assert res.segments.shape == (8, 8) and res.heatmap.shape == (8, 8)
    assert res.segments.max() + 1 == 16 and len(res.weights) == 16    # 2x2 cells on 8x8
    for seg, weight in zip(res.weights["segment"], res.weights["weight"], strict=True):
        np.testing.assert_allclose(res.heatmap[res.segments == seg], weight)
    assert res.target == int(cnn(torch.as_tensor(X[:1])).argmax())
    again = explain.lime_explanation(cnn, X[0], num_samples=200, seed=0)
    np.testing.assert_allclose(res.heatmap, again.heatmap)


def test_explain_image_reports_cost_and_checks(cnn, digits):
    X, _ = digits
    results = explain.explain_image(cnn, X[0], 4, ("saliency", "integrated_gradients",
                                                   "occlusion", "lime"), lime_samples=100)
    assert set(results) == {"saliency", "integrated_gradients", "occlusion", "lime"}
    for r in results.values():
        assert r["map"].shape == (8, 8) and r["seconds"] >= 0 and r["evaluations"] >= 1
    table = explain.cost_frame(results)
    assert "completeness gap" in table.loc[1, "sanity check"]
    assert table.loc[3, "evaluations"] == 100
