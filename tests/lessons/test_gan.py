"""The GANs lesson's engine: targets, the mode-coverage measure on samples whose answer is
known, what GAN2D gives the view (shapes, ranges, the push on fakes lowering their loss), a
diverged GAN shown without NaN, the widgets' settings, and the lesson's claim: the healthy
setting covers more ring modes than the collapsing one, seed by seed."""

import json

import numpy as np
import pytest
import torch

from nnplay.data.dataset import Dataset
from nnplay.lessons import gan as lesson
from nnplay.lessons import gan_view as view
from nnplay.models.gan import LOSSES, generator_loss
from nnplay.train.jobs import Cancelled


def test_ring_target_puts_its_modes_on_the_circle_and_samples_around_them():
    target = lesson.ring_target()
    assert target.n_modes == 8 and np.allclose(np.linalg.norm(target.centres, axis=1), 2.0)
    x = target.sample(4000, torch.Generator().manual_seed(0)).numpy()
    assert x.shape == (4000, 2)
    assert lesson.mode_coverage(x, target.centres, target.std).covered == 8


def test_mode_coverage_counts_what_it_should():
    centres = lesson.ring_target().centres
    rng = np.random.default_rng(0)
    one_mode = centres[0] + 0.05 * rng.standard_normal((800, 2))
    cov = lesson.mode_coverage(one_mode, centres, 0.1)
    assert cov.covered == 1 and cov.high_quality > 0.99 and cov.counts[0] > 790
    # half the samples on two modes, half far away: 2 covered, half high quality
    far = np.full((400, 2), 10.0)
    two = np.concatenate([centres[[1]] + 0.0 * far[:200], centres[[5]] + 0.0 * far[:200], far])
    cov = lesson.mode_coverage(two, centres, 0.1)
    assert (cov.covered, cov.high_quality) == (2, 0.5)
    # a mode with a few stray samples is not covered: it needs a quarter of its fair share
    stray = np.concatenate([np.repeat(centres[[0]], 790, 0), np.repeat(centres[[3]], 10, 0)])
    cov = lesson.mode_coverage(stray, centres, 0.1)
    assert cov.covered == 1 and cov.need == 25 and cov.counts[3] == 10
    nan = lesson.mode_coverage(np.full((100, 2), np.nan), centres, 0.1)
    assert (nan.covered, nan.high_quality) == (0, 0.0) and "0 of 8" in str(nan)


def test_targets_fit_the_plane_and_a_bad_drawing_says_what_to_do():
    for name in ("ring", "moons"):
        points = lesson.make_target(name).points
        assert np.abs(points).max() < 3.0
    grid = np.zeros((56, 56), dtype=np.float32)
    grid[10:14, 5:50] = 1.0                        # a horizontal stroke near the top
    target = lesson.drawn_target(grid)
    assert len(target.points) == 4 * 45 and (target.points[:, 1] > 1.5).all()
    assert target.centres is None and target.std > 0
    with pytest.raises(ValueError, match="Draw a shape"):
        lesson.drawn_target(None)
    with pytest.raises(ValueError, match="longer stroke"):
        lesson.drawn_target(np.zeros((56, 56)))
    with pytest.raises(ValueError, match="Unknown target"):
        lesson.make_target("spiral")


def test_gan2d_gives_the_view_what_it_draws():
    gan = lesson.GAN2D(lesson.ring_target(), g_hidden=(8,), d_hidden=(8,), seed=0)
    assert gan.history[0]["step"] == 0 and gan.history[0]["d_loss"] is None
    assert gan.step(30) == 30 and [h["step"] for h in gan.history] == [0, 25]
    grid = gan.decision_grid(12)
    assert grid.real.shape == (12, 12) and 0 <= grid.real.min() <= grid.real.max() <= 1
    latent = gan.latent_map(5)
    assert latent.latent.shape == latent.mapped.shape == (5, 5, 2)
    assert np.allclose(latent.latent[0, 0], [-1, -1]) and np.allclose(latent.latent[-1, -1], [1, 1])
    assert np.array_equal(gan.samples(50), gan.samples(50))       # one fixed latent batch
    assert gan.real_samples(10).shape == (10, 2)
    before = gan.gan.d_updates
    gan.step_discriminator()
    gan.step_generator()
    assert gan.gan.d_updates == before + 1 and gan.steps == 31
    with pytest.raises(ValueError, match="at most 256"):
        lesson.GAN2D(lesson.ring_target(), g_hidden=(300,))


@pytest.mark.parametrize("loss", list(LOSSES))
def test_moving_fakes_along_the_arrows_lowers_the_generators_loss(loss):
    gan = lesson.GAN2D(lesson.ring_target(), g_hidden=(8,), d_hidden=(16,), loss=loss, seed=1)
    gan.step(20)
    at, push = gan.fake_gradients(64)
    assert at.shape == push.shape == (64, 2)

    def g_loss(points):
        with torch.no_grad():
            return generator_loss(loss, gan.gan.D(torch.as_tensor(points))).item()
    assert g_loss(at + 1e-3 * push) < g_loss(at)
    assert all(p.grad is None for p in gan.gan.D.parameters())   # the view left D untouched
    grid = gan.decision_grid(8)
    assert 0 <= grid.real.min() and grid.real.max() <= 1


def test_a_diverged_gan_stops_and_is_shown_without_nan():
    gan = lesson.GAN2D(lesson.ring_target(), g_hidden=(8,), d_hidden=(8,), seed=0)
    gan.step(3)
    with torch.no_grad():
        for p in gan.gan.G.parameters():
            p.fill_(float("nan"))
    gan.step(5)
    assert gan.status == "diverged" and gan.done and gan.step(5) == 0
    payload = view.view_payload(gan, resolution=8, latent_res=3, n_points=20, n_arrows=10)
    text = json.dumps(payload, allow_nan=False)     # raises on NaN or infinity
    assert "NaN" not in text and payload["status"] == "diverged"
    metrics = dict(view.live_metrics(gan, payload))
    assert metrics["D loss"] == "diverged" and metrics["Modes covered"] == "0 of 8"
    assert metrics["High-quality samples"] == "0%"
    assert "diverged at step" in view.status_text(gan)


def test_view_payload_is_plain_json_with_the_coverage():
    gan = lesson.GAN2D(lesson.ring_target(), g_hidden=(8,), d_hidden=(8,))
    gan.step(25)
    payload = view.view_payload(gan, resolution=10, latent_res=4, n_points=30, n_arrows=12)
    json.dumps(payload, allow_nan=False)
    assert len(payload["real_map"]) == 100 and len(payload["fake"]["x"]) == 30
    assert len(payload["arrows"]["dx"]) == 12 and len(payload["manifold"]["x"]) == 16
    assert payload["modes"]["n"] == 8 and payload["curves"]["step"] == [0, 25]
    moons = lesson.GAN2D(lesson.moons_target(), g_hidden=(4,), d_hidden=(4,))
    assert view.view_payload(moons, resolution=8, latent_res=3)["modes"] is None


def test_widgets_and_configs_round_trip_and_changes_are_named():
    for name, preset in lesson.PRESETS.items():
        values = {**view.preset_widgets(name), "seed": preset.seed}
        assert view.config_from_widgets(values) == preset
    healthy, collapse = lesson.HEALTHY, lesson.COLLAPSE
    assert view.structure_key(healthy) == view.structure_key(healthy.replace(lr_g=0.1, d_steps=3))
    assert view.live_changes(healthy, healthy.replace(lr_d=0.1)) == ["lr_d"]
    assert view.changes_text(healthy, collapse) == "discriminator: 32, 32 → 64, 64"
    with pytest.raises(ValueError, match="neurons"):
        view.config_from_widgets({**view.preset_widgets("healthy"), "g_neurons": 5000, "seed": 0})


def test_learning_rates_change_without_a_new_gan():
    gan = lesson.GAN2D(lesson.ring_target(), g_hidden=(4,), d_hidden=(4,))
    gan.step(2)
    gan.set_learning_rates(0.01, 0.02, d_steps=2)
    assert gan.steps == 2 and gan.config.d_steps == 2
    assert gan.gan.opt_d.param_groups[0]["lr"] == 0.02


def test_compare_collapse_stop_keeps_whole_seeds():
    calls = {"n": 0}

    def stop_soon():
        calls["n"] += 1
        return calls["n"] > 10       # after the first seed's two runs of 100 steps (4 checks each)
    with pytest.raises(Cancelled) as stopped:
        lesson.compare_collapse(steps=100, seeds=(0, 1), should_stop=stop_soon)
    result = stopped.value.result
    assert result.final["healthy"] and len(result.final["healthy"]) == len(result.final["collapse"]) == 1
    assert "seeds 0" in result.summary()
    with pytest.raises(ValueError, match="steps"):
        lesson.compare_collapse(steps=10)


@pytest.mark.slow
def test_the_healthy_setting_covers_more_ring_modes_than_the_collapsing_one():
    result = lesson.compare_collapse(steps=lesson.COMPARE_STEPS, seeds=(0, 1, 2))
    healthy, collapse = result.final["healthy"], result.final["collapse"]
    assert all(h > c for h, c in zip(healthy, collapse)), (healthy, collapse)
    assert np.mean(healthy) >= np.mean(collapse) + 3, (healthy, collapse)
    # a collapse, not a failure to learn: most collapsed fakes sit on the modes they cover
    quality = [run[-1]["high_quality"] for run in result.runs["collapse"]]
    assert min(quality) > 0.5, quality


def test_digit_gan_trains_on_images_and_refuses_tables():
    rng = np.random.default_rng(0)
    images = (rng.uniform(size=(160, 1, 28, 28)) > 0.8).astype(np.float32)
    ds = Dataset("tiny digits", images[:128], np.zeros(128, dtype=np.int64), images[128:],
                 np.zeros(32, dtype=np.int64), "classification", ["pixel"], ["0"])
    config = lesson.DIGIT_GAN.replace(g_hidden=(16,), d_hidden=(16,))
    result = lesson.train_digit_gan(ds, epochs=1, seed=0, config=config)
    assert result.status == "completed" and result.samples[-1].shape == (36, 1, 28, 28)
    assert "after 1 epoch at" in view.digit_summary(result)
    table = Dataset("table", np.zeros((80, 3), np.float32), np.zeros(80, np.int64),
                    np.zeros((8, 3), np.float32), np.zeros(8, np.int64), "classification",
                    ["a", "b", "c"], ["0"])
    with pytest.raises(ValueError, match="grey images"):
        lesson.train_digit_gan(table, epochs=1)


def test_the_figures_draw_from_the_engines_numbers():
    from nnplay.plots import gan as plots

    gan = lesson.GAN2D(lesson.ring_target(), g_hidden=(4,), d_hidden=(4,))
    gan.step(50)
    assert len(plots.training_figure(gan.history, 8).data) == 4
    grid, (at, push) = gan.decision_grid(10), gan.fake_gradients(20)
    fig = plots.plane_figure(gan.real_samples(20), gan.samples(20), grid.xs, grid.real, (at, push))
    assert [t.name for t in fig.data] == [None, "real", "fake", "push on fakes"]
    comparison = lesson.compare_collapse(steps=100, seeds=(0,),
                                         healthy=lesson.HEALTHY.replace(g_hidden=(4,)),
                                         collapse=lesson.COLLAPSE.replace(g_hidden=(4,)))
    assert len(plots.collapse_figure(comparison).data) == 2 + 2 * 2
    images = np.zeros((36, 1, 28, 28))
    history = [{"epoch": 1, "d_loss": 1.0, "g_loss": float("nan")}]
    fig = plots.digit_gan_figure(images, history, 1)
    assert fig.data[0].z.shape == (6 * 29 - 1, 6 * 29 - 1) and fig.data[2].y == (None,)
