"""Loss surfaces and optimizer paths: the minima are minima, the paths are torch.optim's, and
plain SGD diverges exactly where the theory says it must."""

import math

import numpy as np
import pytest
import torch

from nnplay.lessons.optimizers import (
    OPTIMIZERS,
    SURFACES,
    closest_table,
    compare_optimizers,
    make_surface,
    optimizer_path,
)


@pytest.mark.parametrize("name", SURFACES)
def test_minima_are_stationary_and_lowest_on_the_grid(name):
    surface = make_surface(name)
    for mx, my in surface.minima:
        xy = torch.tensor([mx, my], dtype=torch.float64, requires_grad=True)
        surface(xy[0], xy[1]).backward()
        assert xy.grad.abs().max() < 1e-4
        assert surface.value(mx, my) == pytest.approx(surface.min_value(), abs=1e-9)
    _, _, Z = surface.grid(80)
    assert Z.min() >= surface.min_value() - 1e-9


def test_sgd_path_is_the_textbook_update():
    surface = make_surface("rosenbrock")
    path = optimizer_path(surface, "sgd", lr=1e-3, steps=20)
    xy = np.array(surface.start)
    for point in path.points[1:]:
        x, y = xy
        grad = np.array([-2 * (1 - x) - 400 * x * (y - x ** 2), 200 * (y - x ** 2)])
        xy = xy - 1e-3 * grad
        np.testing.assert_allclose(point, xy, rtol=1e-10)
    assert len(path.points) == 21 and len(path.losses) == 21
    assert path.losses[-1] == pytest.approx(surface.value(*path.final_point))


@pytest.mark.parametrize("condition", [4.0, 25.0])
def test_sgd_diverges_only_beyond_two_over_the_largest_curvature(condition):
    surface = make_surface("quadratic", condition=condition)
    stable = optimizer_path(surface, "sgd", lr=1.9 / condition, steps=300)
    unstable = optimizer_path(surface, "sgd", lr=2.1 / condition, steps=300)
    assert not stable.diverged and surface.distance_to_minimum(*stable.final_point) < 1e-3
    assert unstable.diverged or surface.distance_to_minimum(*unstable.final_point) > 1e3


def test_compare_optimizers_is_deterministic_and_table_is_sorted():
    surface = make_surface("himmelblau")
    paths = compare_optimizers(surface, lr=0.01, steps=150)
    again = compare_optimizers(surface, lr=0.01, steps=150)
    assert list(paths) == list(OPTIMIZERS)
    for name in OPTIMIZERS:
        np.testing.assert_array_equal(paths[name].points, again[name].points)
    table = closest_table(surface, paths)
    distances = table["distance to nearest minimum"].to_numpy()
    assert np.all(np.diff(distances) >= 0)
    assert distances[0] < 1e-3   # plain gradient steps settle in a minimum here
    best = table.iloc[0]
    assert best["final loss"] == pytest.approx(
        surface.value(best["final x"], best["final y"]), abs=1e-12)


def test_a_diverged_optimizer_sorts_last_with_no_loss():
    surface = make_surface("quadratic", condition=100.0)
    paths = compare_optimizers(surface, lr=0.5, steps=100, optimizers=("sgd", "adam"))
    assert paths["sgd"].diverged and not paths["adam"].diverged
    table = closest_table(surface, paths)
    assert list(table["optimizer"]) == ["Adam", "SGD"]
    assert math.isinf(table["distance to nearest minimum"].iloc[1])
    assert math.isnan(table["final loss"].iloc[1])


def test_momentum_and_adaptive_steps_leave_the_saddle_while_sgd_lingers():
    surface = make_surface("saddle")   # starts 0.01 off the saddle's ridge
    paths = compare_optimizers(surface, lr=0.01, steps=100)
    assert abs(paths["sgd"].final_point[1]) < 0.1
    for name in ("momentum", "nesterov", "rmsprop", "adam"):
        assert abs(paths[name].final_point[1]) > 0.9, name


@pytest.mark.parametrize("call", [lambda: make_surface("banana"),
                                  lambda: make_surface("quadratic", condition=0.5),
                                  lambda: optimizer_path(make_surface("saddle"), "lbfgs", 0.1, 10),
                                  lambda: optimizer_path(make_surface("saddle"), "sgd", -0.1, 10),
                                  lambda: optimizer_path(make_surface("saddle"), "sgd", 0.1, 0)])
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_display_table_says_diverged_instead_of_nan_or_inf():
    from nnplay.lessons.optimizers import compare_optimizers, display_table, format_number

    surface = make_surface("quadratic", 100.0)
    paths = compare_optimizers(surface, lr=1.0, steps=200, optimizers=("sgd", "adam"))
    table = closest_table(surface, paths)
    assert table["diverged"].any()
    shown = display_table(table)
    text = shown.to_string()
    assert "nan" not in text and "inf" not in text
    gone = shown[table["diverged"].to_numpy()]
    assert (gone["final loss"] == "diverged").all()
    assert format_number(123456789.0) == "123e6" and format_number(0.5) == "0.5"
    assert format_number(float("nan")) == "diverged"


def test_the_paths_figure_replays_every_optimizer_step_by_step():
    from nnplay.plots.optimizers import optimizer_paths_figure

    surface = make_surface("rosenbrock")
    paths = compare_optimizers(surface, lr=surface.default_lr, steps=200)
    fig = optimizer_paths_figure(surface, paths)
    assert 10 <= len(fig.frames) <= 60
    last = fig.frames[-1]
    for trace, path in zip(last.data, paths.values(), strict=True):
        assert len(trace.x) == len(path.points)
    assert len(fig.frames[0].data[0].x) == 1
    assert fig.layout.updatemenus[0].buttons[0].label == "▶ Play"
