"""Generative adversarial networks: a generator that turns noise into samples, a discriminator
that tells real samples from generated ones, and the losses that pit them against each other.

Losses (``LOSSES``), all on the discriminator's raw output ``D(x)`` (a logit, or a critic score):

- ``minimax``: Goodfellow et al. (2014) as written; D maximises log D(x) + log(1 - D(G(z))) and
  G minimises log(1 - D(G(z))), whose gradient vanishes once D rejects the fakes confidently.
- ``non_saturating``: the same D; G maximises log D(G(z)) instead (the paper's own fix).
- ``least_squares``: LSGAN (Mao et al. 2017), squared distances to the targets 1 (real), 0 (fake).
- ``wasserstein_gp``: WGAN-GP (Gulrajani et al. 2017): a critic scores real high and fake low,
  with a penalty keeping its gradient norm near 1 on points between real and fake samples.

``GANConfig`` is the frozen, validated set of settings; ``GAN`` holds the two networks and their
optimizers and runs one training step (``d_steps`` discriminator updates, one generator update).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nnplay.device import torch_threads
from nnplay.models.activations import check_activation
from nnplay.models.mlp import MLP, count_parameters

LOSSES = {
    "minimax": "Minimax (original, saturating)",
    "non_saturating": "Non-saturating (-log D(G(z)))",
    "least_squares": "Least squares (LSGAN)",
    "wasserstein_gp": "Wasserstein + gradient penalty (WGAN-GP)",
}
OPTIMIZERS = ("adam", "sgd")
MAX_LAYERS = 6          # hidden layers per network
MAX_NEURONS = 1024      # neurons per hidden layer
MAX_BATCH = 4096


@dataclass(frozen=True)
class GANConfig:
    """How to build and train a GAN; checked once, when it is made."""

    g_hidden: tuple[int, ...] = (16, 16)   # the generator's hidden layers, neurons in each
    d_hidden: tuple[int, ...] = (16, 16)   # the discriminator's hidden layers
    loss: str = "non_saturating"           # one of LOSSES
    optimizer: str = "adam"                # adam (betas 0.5, 0.999; 0.5, 0.9 for WGAN-GP) | sgd
    lr_g: float = 1e-3                     # the generator's learning rate
    lr_d: float = 1e-3                     # the discriminator's learning rate
    batch_size: int = 128                  # real and fake samples per update
    d_steps: int = 1                       # discriminator updates per generator update
    latent_dim: int = 2                    # size of the noise z, uniform in [-1, 1]^latent_dim
    activation: str = "leaky_relu"         # hidden activation of both networks
    gp_weight: float = 10.0                # lambda of the gradient penalty (wasserstein_gp only)
    seed: int = 0                          # initial weights and every random draw

    def __post_init__(self):
        for name in ("g_hidden", "d_hidden"):
            value = getattr(self, name)
            try:
                sizes = tuple(int(h) for h in ([value] if isinstance(value, int) else value))
            except (TypeError, ValueError):
                raise ValueError(f"{name} is a list of layer sizes, got {value!r}.") from None
            object.__setattr__(self, name, sizes)
        object.__setattr__(self, "activation", check_activation(self.activation))
        self.validate()

    def validate(self) -> None:
        """Raise ValueError saying what to change when a setting is impossible."""
        who = {"g_hidden": "The generator", "d_hidden": "The discriminator"}
        for name, network in who.items():
            sizes = getattr(self, name)
            _check(len(sizes) <= MAX_LAYERS,
                   f"{network} has {len(sizes)} hidden layers; use at most {MAX_LAYERS}.")
            _check(all(1 <= h <= MAX_NEURONS for h in sizes),
                   f"{network}'s layers need 1 to {MAX_NEURONS:,} neurons each, got {list(sizes)}.")
        _check(self.loss in LOSSES, f"Unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}.")
        _check(self.optimizer in OPTIMIZERS,
               f"Unknown optimizer {self.optimizer!r}; choose adam or sgd.")
        for name in ("lr_g", "lr_d"):
            lr = getattr(self, name)
            _check(isinstance(lr, (int, float)) and math.isfinite(lr) and 0 < lr <= 1,
                   f"{name} must be a learning rate in (0, 1], got {lr!r}.")
        _check(2 <= self.batch_size <= MAX_BATCH,
               f"batch_size must be 2 to {MAX_BATCH:,}, got {self.batch_size}.")
        _check(1 <= self.d_steps <= 20, f"d_steps must be 1 to 20, got {self.d_steps}.")
        _check(1 <= self.latent_dim <= 512, f"latent_dim must be 1 to 512, got {self.latent_dim}.")
        _check(0 <= self.gp_weight <= 1000, f"gp_weight must be 0 to 1000, got {self.gp_weight}.")

    def replace(self, **changes) -> GANConfig:
        return GANConfig(**{**asdict(self), **changes})

    def to_dict(self) -> dict:
        d = asdict(self)
        d["g_hidden"], d["d_hidden"] = list(self.g_hidden), list(self.d_hidden)
        return d

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


# ---- the two networks ------------------------------------------------------------------------
def generator(latent_dim: int, hidden, n_outputs: int, activation: str = "leaky_relu",
              output: str = "linear") -> nn.Module:
    """Noise (batch, latent_dim) -> samples (batch, n_outputs): an MLP, then ``output``
    ('linear' for points on a plane, 'sigmoid' for pixels in [0, 1])."""
    net = MLP(latent_dim, hidden, n_outputs, activation=activation)
    return net if output == "linear" else nn.Sequential(net, nn.Sigmoid())


def discriminator(n_inputs: int, hidden, activation: str = "leaky_relu") -> MLP:
    """Samples (batch, ...) -> one raw score each, (batch, 1); it flattens images itself."""
    return MLP(n_inputs, hidden, 1, activation=activation)


# ---- the losses --------------------------------------------------------------------------------
# What each side minimises, as the functions below compute it (D(x) is the probability of real,
# sigma of the raw output, for the first two; the raw output for the others).
LOSS_LATEX = {
    "minimax": (r"L_D = -\mathbb{E}_x[\log D(x)] - \mathbb{E}_z[\log(1 - D(G(z)))]",
                r"L_G = \mathbb{E}_z[\log(1 - D(G(z)))]"),
    "non_saturating": (r"L_D = -\mathbb{E}_x[\log D(x)] - \mathbb{E}_z[\log(1 - D(G(z)))]",
                       r"L_G = -\mathbb{E}_z[\log D(G(z))]"),
    "least_squares": (r"L_D = \tfrac12\mathbb{E}_x[(D(x) - 1)^2] + \tfrac12\mathbb{E}_z[D(G(z))^2]",
                      r"L_G = \tfrac12\mathbb{E}_z[(D(G(z)) - 1)^2]"),
    "wasserstein_gp": (r"L_D = \mathbb{E}_z[D(G(z))] - \mathbb{E}_x[D(x)] + \lambda\,"
                       r"\mathbb{E}_{\hat x}[(\lVert\nabla D(\hat x)\rVert - 1)^2]",
                       r"L_G = -\mathbb{E}_z[D(G(z))]"),
}

def discriminator_loss(loss: str, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    """What D minimises, from its raw outputs on a real and a fake batch (no penalty)."""
    if loss in ("minimax", "non_saturating"):   # -log D(x) - log(1 - D(G(z))), D = sigmoid(out)
        return F.softplus(-real_out).mean() + F.softplus(fake_out).mean()
    if loss == "least_squares":
        return 0.5 * ((real_out - 1) ** 2).mean() + 0.5 * (fake_out ** 2).mean()
    if loss == "wasserstein_gp":
        return fake_out.mean() - real_out.mean()
    raise ValueError(f"Unknown loss {loss!r}; choose one of {', '.join(LOSSES)}.")


def generator_loss(loss: str, fake_out: torch.Tensor, per_sample: bool = False) -> torch.Tensor:
    """What G minimises, from D's raw output on fakes; ``per_sample`` keeps one value each."""
    if loss == "minimax":               # log(1 - D(G(z))) = -softplus(out)
        values = -F.softplus(fake_out)
    elif loss == "non_saturating":      # -log D(G(z)) = softplus(-out)
        values = F.softplus(-fake_out)
    elif loss == "least_squares":
        values = 0.5 * (fake_out - 1) ** 2
    elif loss == "wasserstein_gp":
        values = -fake_out
    else:
        raise ValueError(f"Unknown loss {loss!r}; choose one of {', '.join(LOSSES)}.")
    return values.reshape(len(values), -1).sum(1) if per_sample else values.mean()


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     rng: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP's (||grad D(x_hat)|| - 1)^2, averaged over x_hat on random points between pairs
    of real and fake samples."""
    shape = (len(real),) + (1,) * (real.dim() - 1)
    t = torch.rand(shape, generator=rng)
    between = (t * real + (1 - t) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(between).sum(), between, create_graph=True)
    return ((grad.reshape(len(grad), -1).norm(dim=1) - 1) ** 2).mean()


def _optimizer(config: GANConfig, params, lr: float) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr)
    betas = (0.5, 0.9) if config.loss == "wasserstein_gp" else (0.5, 0.999)
    # fused: one kernel for every parameter; these networks are small, so the loop is the cost
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)


single_thread = partial(torch_threads, 1)   # small nets: see nnplay.device.torch_threads


def _clear_grads(net: nn.Module) -> None:
    # directly: the optimizer's zero_grad adds a profiler scope and a loop of its own per step
    for p in net.parameters():
        p.grad = None


class GAN:
    """A generator and a discriminator with their optimizers, trained one step at a time.

    ``step(real_batch)`` runs ``config.d_steps`` discriminator updates (each on a fresh real
    batch from ``real_batch(n)``) and one generator update; it returns the last losses, NaN
    included when training diverged (see ``finite``). ``train_discriminator`` and
    ``train_generator`` make one update of one side, to watch them take turns. Noise and penalty points come from the
    GAN's own seeded generator, so the same config gives the same numbers.
    """

    def __init__(self, config: GANConfig, generator_net: nn.Module, discriminator_net: nn.Module):
        self.config = config
        self.G, self.D = generator_net, discriminator_net
        self.rng = torch.Generator().manual_seed(config.seed)
        self.opt_g = _optimizer(config, self.G.parameters(), config.lr_g)
        self.opt_d = _optimizer(config, self.D.parameters(), config.lr_d)
        self.steps = 0          # generator updates
        self.d_updates = 0      # discriminator updates

    def noise(self, n: int) -> torch.Tensor:
        """n latent vectors, uniform in [-1, 1]^latent_dim."""
        return torch.rand(n, self.config.latent_dim, generator=self.rng) * 2 - 1

    def set_learning_rates(self, lr_g: float, lr_d: float) -> None:
        """Change both learning rates in place (the optimizers keep their state)."""
        self.config = self.config.replace(lr_g=float(lr_g), lr_d=float(lr_d))
        for opt, lr in ((self.opt_g, lr_g), (self.opt_d, lr_d)):
            for group in opt.param_groups:
                group["lr"] = float(lr)

    def set_d_steps(self, d_steps: int) -> None:
        self.config = self.config.replace(d_steps=int(d_steps))

    def train_discriminator(self, real_batch: Callable[[int], torch.Tensor],
                            fake: torch.Tensor | None = None) -> dict:
        """One discriminator update on a real batch and ``fake`` (fresh fakes when None)."""
        cfg, n = self.config, self.config.batch_size
        real = real_batch(n)
        if fake is None:
            with torch.no_grad():
                fake = self.G(self.noise(n))
        scores = self.D(torch.cat([real, fake]))     # one pass over both halves
        d_loss = discriminator_loss(cfg.loss, scores[:n], scores[n:])
        out = {"d_loss": d_loss.item()}
        if cfg.loss == "wasserstein_gp":
            gp = gradient_penalty(self.D, real, fake, self.rng)
            out["gp"] = gp.item()
            d_loss = d_loss + cfg.gp_weight * gp
        _clear_grads(self.D)
        d_loss.backward()
        self.opt_d.step()
        self.d_updates += 1
        return out

    def train_generator(self, fake: torch.Tensor | None = None) -> dict:
        """One generator update on ``fake`` (made with gradients; fresh fakes when None)."""
        if fake is None:
            fake = self.G(self.noise(self.config.batch_size))
        g_loss = generator_loss(self.config.loss, self.D(fake))
        _clear_grads(self.G)
        g_loss.backward()
        self.opt_g.step()
        self.steps += 1
        return {"g_loss": g_loss.item()}

    def step(self, real_batch: Callable[[int], torch.Tensor]) -> dict:
        """``d_steps`` discriminator updates, then one generator update; returns the last
        losses {"d_loss", "g_loss"} (plus "gp" for WGAN-GP)."""
        fake = self.G(self.noise(self.config.batch_size))  # the last D update sees these too
        out = {}
        for k in range(self.config.d_steps):
            last = k + 1 == self.config.d_steps
            out.update(self.train_discriminator(real_batch, fake.detach() if last else None))
        out.update(self.train_generator(fake))
        return out

    def finite(self) -> bool:
        """Whether every weight of both networks is still a finite number."""
        return all(bool(torch.isfinite(p).all())
                   for net in (self.G, self.D) for p in net.parameters())

    def parameter_counts(self) -> dict:
        return {"generator": count_parameters(self.G), "discriminator": count_parameters(self.D)}

    def __repr__(self) -> str:
        c = self.config
        return (f"GAN(G={list(c.g_hidden)}, D={list(c.d_hidden)}, loss={c.loss!r}, "
                f"optimizer={c.optimizer!r}, steps={self.steps})")


def build_gan(config: GANConfig, n_outputs: int, output: str = "linear") -> GAN:
    """A fresh GAN whose generator makes samples of ``n_outputs`` numbers, seeded by the config."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        g = generator(config.latent_dim, config.g_hidden, n_outputs, config.activation, output)
        d = discriminator(n_outputs, config.d_hidden, config.activation)
    return GAN(config, g, d)


# ---- a GAN on images ---------------------------------------------------------------------------
@dataclass
class ImageGANResult:
    """A GAN trained on images: losses per epoch and, after every epoch (and before the first),
    the generator's images for one fixed latent batch, so the same inputs are seen improving."""

    config: GANConfig
    shape: tuple[int, ...]                  # one image's shape, e.g. (1, 28, 28)
    history: list[dict] = field(default_factory=list)   # epoch, d_loss, g_loss, d_real, d_fake, seconds
    samples: list[np.ndarray] = field(default_factory=list)  # per epoch 0..E: (n_show, *shape)
    generator: nn.Module | None = None
    status: str = "running"                 # completed | stopped | diverged

    @property
    def epochs(self) -> int:
        return len(self.history)

    @property
    def seconds_per_epoch(self) -> float | None:
        times = [h["seconds"] for h in self.history]
        return float(np.mean(times)) if times else None

    def __repr__(self) -> str:
        return (f"ImageGANResult(epochs={self.epochs}, status={self.status!r}, "
                f"shape={self.shape})")


class _Shuffled:
    """Batches of rows in a random order, a fresh order each time the rows run out."""

    def __init__(self, rows: torch.Tensor, rng: torch.Generator):
        self.rows, self.rng = rows, rng
        self.order, self.at = torch.randperm(len(rows), generator=rng), 0

    def __call__(self, n: int) -> torch.Tensor:
        if self.at + n > len(self.rows):
            self.order, self.at = torch.randperm(len(self.rows), generator=self.rng), 0
        self.at += n
        return self.rows[self.order[self.at - n:self.at]]


def train_image_gan(images: np.ndarray, config: GANConfig, epochs: int, n_show: int = 36,
                    progress: Callable[[int, int], None] | None = None,
                    should_stop: Callable[[], bool] | None = None) -> ImageGANResult:
    """Train a GAN on ``images`` (n, ...) with values in [0, 1] for ``epochs`` passes.

    The generator ends in a sigmoid so its pixels are in [0, 1] too. ``progress(step, steps)``
    is called every few batches; when ``should_stop()`` turns true the epochs finished so far
    are kept and Cancelled(result=...) is raised (nnplay.train.jobs' protocol). A loss that is
    not finite ends training with status "diverged".
    """
    from nnplay.train.jobs import Cancelled

    data = torch.as_tensor(np.asarray(images, dtype=np.float32))
    _check(data.dim() >= 2 and len(data) >= config.batch_size,
           f"Need at least one batch of images ({config.batch_size}), got {len(data)}.")
    _check(1 <= epochs <= 500, f"epochs must be 1 to 500, got {epochs}.")
    shape, flat = tuple(data.shape[1:]), data.reshape(len(data), -1)
    gan = build_gan(config, flat.shape[1], output="sigmoid")
    fixed = torch.rand(n_show, config.latent_dim,
                       generator=torch.Generator().manual_seed(config.seed + 2)) * 2 - 1
    result = ImageGANResult(config, shape, generator=gan.G)
    real_batch = _Shuffled(flat, gan.rng)
    per_epoch = len(flat) // config.batch_size
    total = epochs * per_epoch
    with torch.no_grad():
        result.samples.append(gan.G(fixed).reshape(n_show, *shape).numpy().copy())
    with single_thread():
        for epoch in range(1, epochs + 1):
            t0, sums = time.perf_counter(), {"d_loss": 0.0, "g_loss": 0.0}
            for b in range(per_epoch):
                if should_stop is not None and b % 10 == 0 and should_stop():
                    result.status = "stopped"
                    raise Cancelled(result=result)
                losses = gan.step(real_batch)
                if not all(math.isfinite(v) for v in losses.values()):
                    result.status = "diverged"
                    return result
                sums["d_loss"] += losses["d_loss"]
                sums["g_loss"] += losses["g_loss"]
                if progress is not None and b % 10 == 0:
                    progress((epoch - 1) * per_epoch + b, total)
            with torch.no_grad():
                result.samples.append(gan.G(fixed).reshape(n_show, *shape).numpy().copy())
                d_real, d_fake = _realness(gan, real_batch(config.batch_size), fixed)
            result.history.append({"epoch": epoch, "d_loss": sums["d_loss"] / per_epoch,
                                   "g_loss": sums["g_loss"] / per_epoch, "d_real": d_real,
                                   "d_fake": d_fake, "seconds": time.perf_counter() - t0})
            if progress is not None:
                progress(epoch * per_epoch, total)
    result.status = "completed"
    return result


def _realness(gan: GAN, real: torch.Tensor, noise: torch.Tensor) -> tuple:
    """How real D finds a real batch and the fakes of ``noise``, each a mean in [0, 1]: its
    P(real) for minimax and non-saturating, its clipped output for least squares; (None, None)
    for a Wasserstein critic, whose scores have no fixed scale."""
    if gan.config.loss == "wasserstein_gp":
        return None, None
    squash = torch.sigmoid if gan.config.loss != "least_squares" else (lambda t: t.clamp(0, 1))
    return squash(gan.D(real)).mean().item(), squash(gan.D(gan.G(noise))).mean().item()
