"""The evaluation lesson's verdict on a network against its baselines follows the numbers."""

import pytest

from nnplay.lessons.evaluate import CLEAR_MARGIN, baseline_verdict


@pytest.mark.parametrize("network, dummy, best, level, words", [
    (0.69, 0.70, 0.72, "error", "no better than"),
    (0.728, 0.700, 0.74, "warning", "barely beats"),
    (0.90, 0.70, 0.95, "warning", "beats the network"),
    (0.96, 0.62, 0.95, "success", "every other baseline"),
    (float("nan"), 0.5, 0.5, "warning", "could not be computed"),
])
def test_verdict_levels(network, dummy, best, level, words):
    got, sentence = baseline_verdict(network, dummy, best, "Random forest")
    assert got == level and words in sentence


def test_the_margin_is_the_boundary():
    assert baseline_verdict(0.70 + CLEAR_MARGIN - 1e-6, 0.70, 0.0, "x")[0] == "warning"
    assert baseline_verdict(0.70 + CLEAR_MARGIN + 1e-6, 0.70, 0.0, "x")[0] == "success"
