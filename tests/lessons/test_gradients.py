"""Gradient flow through deep MLPs on real digits: sigmoid vanishes, ReLU with Kaiming does not."""

import numpy as np
import pytest
import torch

from nnplay.lessons.gradients import digits_batch, measure_gradient_flow


def test_deep_sigmoid_vanishes():
    report = measure_gradient_flow(20, "sigmoid", "default")
    assert report.ratio > 1e3
    assert report.status == "vanishing"


def test_deep_relu_with_kaiming_keeps_norms_level():
    report = measure_gradient_flow(20, "relu", "kaiming")
    assert 1e-3 < report.ratio < 1e3
    assert report.grad_norms.max() / report.grad_norms.min() < 1e2
    assert report.status == "healthy"


def test_large_init_with_relu_explodes():
    assert measure_gradient_flow(20, "relu", "large").status == "exploding"


def test_report_shapes_and_determinism():
    a = measure_gradient_flow(5, "tanh", "xavier", width=16, batch_size=64, seed=3)
    b = measure_gradient_flow(5, "tanh", "xavier", width=16, batch_size=64, seed=3)
    assert a.layer_names == ("layer 1", "layer 2", "layer 3", "layer 4", "layer 5", "output")
    assert len(a.grad_norms) == 6 and len(a.activation_samples) == 5
    np.testing.assert_array_equal(a.grad_norms, b.grad_norms)
    assert np.all(np.abs(a.activation_samples[0]) <= 1.0)   # tanh outputs
    assert a.loss == pytest.approx(np.log(10), rel=0.3)      # an untrained 10-class guess


def test_measuring_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    measure_gradient_flow(3, "relu", "default", batch_size=32)
    assert torch.equal(torch.rand(3), expected)


def test_batch_is_real_standardised_digits():
    X, y = digits_batch(200, seed=0)
    assert X.shape == (200, 64) and X.dtype == torch.float32
    assert set(y.tolist()) == set(range(10))
    assert abs(float(X.mean())) < 0.2


@pytest.mark.parametrize("kwargs", [{"depth": 0}, {"depth": 51}, {"depth": 3, "init": "zeros"},
                                    {"depth": 3, "activation": "swish"},
                                    {"depth": 3, "batch_size": 0}])
def test_bad_input_raises_value_error(kwargs):
    with pytest.raises(ValueError):
        measure_gradient_flow(**kwargs)


@pytest.mark.parametrize("activation, init", [("relu", "large"), ("sigmoid", "default"),
                                              ("tanh", "small"), ("relu", "kaiming"),
                                              ("tanh", "large"), ("sigmoid", "small")])
def test_the_printed_reason_is_the_rule_that_decided(activation, init):
    from nnplay.lessons.gradients import EXPLODING_NORM, RATIO_THRESHOLD

    report = measure_gradient_flow(20, activation, init)
    status, reason = report.diagnosis()
    largest = float(report.grad_norms.max())
    if largest > EXPLODING_NORM:
        assert status == "exploding" and f"above {EXPLODING_NORM:g}" in reason
    elif report.ratio > RATIO_THRESHOLD or not np.isfinite(report.ratio):
        assert status == "vanishing"
    else:
        assert status == "healthy" and "within" in reason
    assert "nan" not in reason and "inf " not in reason


def test_sigmoid_slopes_are_at_most_a_quarter_and_saturate_with_large_weights():
    default = measure_gradient_flow(20, "sigmoid", "default")
    large = measure_gradient_flow(20, "sigmoid", "large")
    assert np.all(default.mean_slope <= 0.25) and default.mean_slope.min() > 0.2
    assert large.mean_slope.max() < 0.15   # saturated: units pile up at 0 and 1
    assert len(default.mean_slope) == 20
