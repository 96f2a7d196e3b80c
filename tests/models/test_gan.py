"""The GAN model family: settings checked with messages, the four losses against torch's own
formulas, the gradient penalty on critics whose gradient norm is known, reproducible steps, and
image training with progress, stop and divergence."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nnplay.models.gan import (
    LOSS_LATEX,
    LOSSES,
    GANConfig,
    build_gan,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    single_thread,
    train_image_gan,
)
from nnplay.train.jobs import Cancelled


@pytest.mark.parametrize("changes, message", [
    ({"loss": "hinge"}, "Unknown loss"),
    ({"optimizer": "rmsprop"}, "adam or sgd"),
    ({"g_hidden": (5000,)}, "1 to 1,024 neurons"),
    ({"d_hidden": (8,) * 9}, "at most 6"),
    ({"lr_g": 0.0}, "learning rate"),
    ({"lr_d": float("nan")}, "learning rate"),
    ({"batch_size": 1}, "batch_size"),
    ({"g_hidden": "wide"}, "layer sizes"),
])
def test_impossible_settings_say_what_to_change(changes, message):
    with pytest.raises(ValueError, match=message):
        GANConfig(**changes)


def test_config_is_frozen_hashable_and_round_trips():
    config = GANConfig(g_hidden=[8, 8], d_hidden=4)
    assert config.g_hidden == (8, 8) and config.d_hidden == (4,)
    assert GANConfig(**config.to_dict()) == config and hash(config) == hash(config.replace())
    assert set(LOSS_LATEX) == set(LOSSES)


def test_losses_match_torchs_binary_cross_entropy_and_their_definitions():
    torch.manual_seed(0)
    real, fake = torch.randn(16, 1), torch.randn(16, 1)
    bce = F.binary_cross_entropy_with_logits
    expected_d = bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))
    for loss in ("minimax", "non_saturating"):
        assert torch.allclose(discriminator_loss(loss, real, fake), expected_d, atol=1e-6)
    # minimax G: log(1 - D(G(z))) = -BCE(fake, 0); non-saturating: -log D(G(z)) = BCE(fake, 1)
    assert torch.allclose(generator_loss("minimax", fake), -bce(fake, torch.zeros_like(fake)), atol=1e-6)
    assert torch.allclose(generator_loss("non_saturating", fake), bce(fake, torch.ones_like(fake)), atol=1e-6)
    assert torch.allclose(discriminator_loss("least_squares", real, fake),
                          0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake ** 2).mean())
    assert torch.allclose(generator_loss("wasserstein_gp", fake), -fake.mean())
    per_sample = generator_loss("least_squares", fake, per_sample=True)
    assert per_sample.shape == (16,) and torch.allclose(per_sample.mean(), generator_loss("least_squares", fake))


def test_minimax_generator_gradient_vanishes_where_non_saturating_does_not():
    # D confidently rejects the fake (logit -8): the original loss barely pushes it
    out = torch.tensor([[-8.0]], requires_grad=True)
    (g_mm,) = torch.autograd.grad(generator_loss("minimax", out), out)
    (g_ns,) = torch.autograd.grad(generator_loss("non_saturating", out), out)
    assert abs(g_mm.item()) < 1e-3 < 0.99 < abs(g_ns.item())


@pytest.mark.parametrize("scale, expected", [(1.0, 0.0), (2.0, 1.0), (0.5, 0.25)])
def test_gradient_penalty_of_a_linear_critic_is_its_norm_minus_one_squared(scale, expected):
    critic = nn.Linear(2, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8]]) * scale)   # gradient norm = scale
    gp = gradient_penalty(critic, torch.randn(32, 2), torch.randn(32, 2))
    assert gp.item() == pytest.approx(expected, abs=1e-5)


def ring(n, rng):
    angles = torch.randint(0, 8, (n,), generator=rng) * (2 * math.pi / 8)
    return torch.stack([2 * angles.cos(), 2 * angles.sin()], 1) + 0.1 * torch.randn(n, 2, generator=rng)


@pytest.mark.parametrize("loss", list(LOSSES))
def test_steps_are_reproducible_and_count_both_sides(loss):
    def run():
        gan = build_gan(GANConfig(g_hidden=(8,), d_hidden=(8,), loss=loss, d_steps=2, seed=3), 2)
        rng = torch.Generator().manual_seed(0)
        out = [gan.step(lambda n: ring(n, rng)) for _ in range(3)]
        return gan, out

    gan, first = run()
    _, second = run()
    assert first == second and all(math.isfinite(v) for v in first[-1].values())
    assert gan.steps == 3 and gan.d_updates == 6 and gan.finite()
    assert ("gp" in first[0]) == (loss == "wasserstein_gp")


def test_learning_rates_change_in_place():
    gan = build_gan(GANConfig(g_hidden=(4,), d_hidden=(4,)), 2)
    gan.set_learning_rates(0.01, 0.02)
    assert gan.opt_g.param_groups[0]["lr"] == 0.01 and gan.opt_d.param_groups[0]["lr"] == 0.02
    assert gan.config.lr_g == 0.01


def test_single_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with single_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def tiny_images(n=96, seed=0):
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 1, 6, 6), dtype=np.float32)
    images[:, 0, 2:4, :] = rng.uniform(0.5, 1.0, (n, 2, 6))   # a bright bar
    return images


def test_image_gan_keeps_losses_and_samples_per_epoch():
    calls = []
    config = GANConfig(g_hidden=(16,), d_hidden=(16,), latent_dim=4, batch_size=16)
    result = train_image_gan(tiny_images(), config, epochs=2, n_show=4,
                             progress=lambda done, total: calls.append((done, total)))
    assert result.status == "completed" and result.epochs == 2
    assert len(result.samples) == 3 and result.samples[0].shape == (4, 1, 6, 6)
    assert all(((s >= 0) & (s <= 1)).all() for s in result.samples)
    assert not np.allclose(result.samples[0], result.samples[-1])
    assert calls[-1] == (12, 12) and result.seconds_per_epoch > 0
    assert 0 <= result.history[-1]["d_real"] <= 1


def test_image_gan_stop_keeps_finished_epochs_and_divergence_is_reported():
    config = GANConfig(g_hidden=(8,), d_hidden=(8,), latent_dim=4, batch_size=16)
    asked = {"n": 0}

    def stop_in_second_epoch():
        asked["n"] += 1
        return asked["n"] > 1      # the first check passes, the one in epoch 2 stops
    with pytest.raises(Cancelled) as stopped:
        train_image_gan(tiny_images(), config, epochs=3, should_stop=stop_in_second_epoch)
    assert stopped.value.result.status == "stopped" and stopped.value.result.epochs == 1
    wild = config.replace(optimizer="sgd", lr_g=1.0, lr_d=1.0, loss="wasserstein_gp", gp_weight=0)
    result = train_image_gan(tiny_images() * 1e6, wild, epochs=5)
    assert result.status == "diverged"
    with pytest.raises(ValueError, match="at least one batch"):
        train_image_gan(tiny_images(8), config, epochs=1)
