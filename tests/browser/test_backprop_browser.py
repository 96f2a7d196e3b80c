"""The backpropagation lesson end to end in Chromium: step, run all, check with PyTorch, update."""

import re

import pytest

pytestmark = pytest.mark.browser


def test_step_run_all_and_match_pytorch(page, app_url, idle):
    page.goto(f"{app_url}/backprop")
    idle(page, timeout_s=120)
    graph = page.locator('[data-testid="stGraphVizChart"]').first
    before = graph.inner_text()
    page.get_by_role("button", name="Forward step").click()
    idle(page)
    assert graph.inner_text() != before                     # a node got its value
    page.get_by_role("button", name="Run all").click()
    idle(page)
    assert "grad ?" not in graph.inner_text()               # every gradient is known
    page.get_by_text("Compute the same network with torch.autograd").click()
    idle(page)
    message = page.locator('[data-testid="stAlertContentSuccess"]').filter(
        has_text="Largest gradient difference").first.inner_text()
    worst = float(re.search(r"Largest gradient difference: ([0-9.]+e[+-]?[0-9]+|[0-9.]+[0-9])", message).group(1))
    assert worst < 1e-9
    page.get_by_role("button", name="Apply this update to the weights").click()
    idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
