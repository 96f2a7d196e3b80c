"""The GANs lesson's engine: a 2-D GAN in the spirit of GAN Lab (Kahng et al. 2018), mode
collapse and how to measure it, then a small GAN on handwritten digits.

``GAN2D(target, ...)`` trains a generator and a discriminator (nnplay.models.gan) on a 2-D target
(``ring_target``, ``moons_target`` or ``drawn_target`` from a drawing) one step at a time, and
gives what GAN Lab draws: the discriminator over the plane (``decision_grid``), where the
generator sends a grid of its inputs (``latent_map``), the push on each fake sample
(``fake_gradients``) and, on a ring, how many modes the fakes cover (``mode_coverage``) over
training. ``compare_collapse`` runs a healthy and a collapsing setting over seeds, and
``train_digit_gan`` a small GAN on mnist5k's digits (both background jobs).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import numpy as np
import torch

from nnplay.models.gan import (
    GANConfig,
    ImageGANResult,
    build_gan,
    generator_loss,
    single_thread,
    train_image_gan,
)
from nnplay.train.jobs import Cancelled, check_stop

PLANE = (-3.0, 3.0)          # both axes of the plane every 2-D target lives in
RING_MODES, RING_RADIUS, RING_STD = 8, 2.0, 0.1
K_STD = 3.0                  # a fake within 3 std of a mode's centre is a high-quality sample
MIN_SHARE = 0.25             # a mode is covered when it gets a quarter of its fair share of fakes
EVAL_SAMPLES = 1000          # fakes (from one fixed latent batch) behind every coverage number
VIEW_SAMPLES = 300           # real and fake points drawn on the plane
RECORD_EVERY = 25            # steps between two points of the history
MAX_STEPS = 50_000           # a live run stops here (the curves stay readable)
MAX_2D_NEURONS = 256         # per hidden layer, on the plane
TARGETS = {"ring": "Ring of 8 Gaussians", "moons": "Two moons", "drawn": "Your drawing"}

# Settings the lesson starts from, both with the non-saturating loss and Adam. Healthy: both
# networks 32-32, learning rate 0.01 each. Collapse: a discriminator twice as wide (64-64) whose
# learning rate is 5x the generator's (0.01 against 0.002): the generator settles on the few
# modes where it fools it. tests/lessons/test_gan.py checks the difference seed by seed.
HEALTHY = GANConfig(g_hidden=(32, 32), d_hidden=(32, 32), loss="non_saturating",
                    lr_g=1e-2, lr_d=1e-2)
COLLAPSE = GANConfig(g_hidden=(32, 32), d_hidden=(64, 64), loss="non_saturating",
                     lr_g=2e-3, lr_d=1e-2)
PRESETS = {"healthy": HEALTHY, "collapse": COLLAPSE}
COMPARE_STEPS = 1000         # steps per run in the comparison (and its test)

# One chunk of live training runs at a time in a process: tiny torch ops hand the GIL back and
# forth between learners' threads, and taking turns measured faster for all (the Playground's
# finding, nnplay/lessons/playground).
GAN_TURN = threading.Lock()


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


# ---- targets ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """A 2-D distribution to imitate. Real batches are drawn from the pool ``points``, each
    moved by Gaussian noise of ``std``; a mixture of Gaussians instead draws around its
    ``centres`` with ``std`` (``points`` is then a sample of it), and its modes are what coverage
    counts."""

    name: str
    points: np.ndarray                   # (n, 2) float32, on the PLANE
    centres: np.ndarray | None = None    # (modes, 2) for a Gaussian mixture
    std: float = 0.0                     # each mode's std (mixture) or the pool's jitter

    @property
    def n_modes(self) -> int:
        return 0 if self.centres is None else len(self.centres)

    def sample(self, n: int, rng: torch.Generator) -> torch.Tensor:
        """n real samples, drawn with ``rng``."""
        base = self.centres if self.centres is not None else self.points
        idx = torch.randint(0, len(base), (n,), generator=rng)
        out = torch.as_tensor(base, dtype=torch.float32)[idx]
        return out + self.std * torch.randn(n, 2, generator=rng) if self.std else out

    def __repr__(self) -> str:
        return f"Target({self.name!r}, points={len(self.points)}, modes={self.n_modes})"


def ring_target(modes: int = RING_MODES, radius: float = RING_RADIUS, std: float = RING_STD,
                seed: int = 0) -> Target:
    """Gaussians of equal weight evenly spaced on a circle (the Unrolled-GAN benchmark)."""
    _check(2 <= modes <= 24, f"A ring needs 2 to 24 modes, got {modes}.")
    _check(0 < radius <= 2.5 and 0 < std <= 0.5,
           f"radius must be in (0, 2.5] and std in (0, 0.5], got {radius} and {std}.")
    angles = 2 * np.pi * np.arange(modes) / modes
    centres = np.column_stack([radius * np.cos(angles), radius * np.sin(angles)]).astype(np.float32)
    rng = np.random.default_rng(seed)
    pool = centres[rng.integers(0, modes, 2000)] + std * rng.standard_normal((2000, 2))
    return Target(f"ring of {modes} Gaussians", pool.astype(np.float32), centres, float(std))


def moons_target(noise: float = 0.05, seed: int = 0) -> Target:
    """scikit-learn's two moons (labels dropped), centred and scaled by 1.5 onto the plane."""
    from sklearn.datasets import make_moons

    X, _ = make_moons(n_samples=2000, noise=noise, random_state=seed)
    points = (X - [0.5, 0.25]) * 1.5
    return Target("two moons", points.astype(np.float32), std=0.02)


def drawn_target(grid: np.ndarray | None, threshold: float = 0.5,
                 min_points: int = 20) -> Target:
    """The bright pixels of a drawing (a (side, side) array in [0, 1], row 0 at the top) as a
    target on the plane, each pixel a point jittered by a third of a pixel."""
    _check(grid is not None and np.size(grid) > 0 and np.ndim(grid) == 2,
           "Draw a shape on the canvas first: its strokes become the target.")
    grid = np.nan_to_num(np.asarray(grid, dtype=np.float32))
    rows, cols = np.nonzero(grid > threshold)
    _check(len(rows) >= min_points,
           f"The drawing has {len(rows)} bright pixels; draw a longer stroke (at least "
           f"{min_points}).")
    side_y, side_x = grid.shape
    span = PLANE[1] - PLANE[0]
    x = PLANE[0] + (cols + 0.5) / side_x * span
    y = PLANE[1] - (rows + 0.5) / side_y * span      # row 0 is the top of the canvas
    pixel = span / max(side_x, side_y)
    return Target("your drawing", np.column_stack([x, y]).astype(np.float32), std=pixel / 3)


def make_target(name: str, drawing: np.ndarray | None = None, seed: int = 0) -> Target:
    """The target called ``name`` (one of TARGETS); 'drawn' needs the drawing."""
    _check(name in TARGETS, f"Unknown target {name!r}; choose one of {', '.join(TARGETS)}.")
    if name == "ring":
        return ring_target(seed=seed)
    if name == "moons":
        return moons_target(seed=seed)
    return drawn_target(drawing)


# ---- mode coverage ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ModeCoverage:
    """How many of a mixture's modes a set of samples covers, and how good the samples are.

    counts[m]: samples within ``k`` std of centre m; a mode is covered when its count reaches
    ``min_share`` of the fair share (samples / modes); high_quality: the share of samples within
    ``k`` std of some centre (samples that are not finite count as bad).
    """

    covered: int
    n_modes: int
    counts: tuple[int, ...]
    high_quality: float
    n_samples: int
    need: int                  # samples a mode needs within k std to count as covered

    def __str__(self) -> str:
        return (f"{self.covered} of {self.n_modes} modes covered, "
                f"{self.high_quality:.0%} high-quality samples")


def mode_coverage(samples, centres, std: float, k: float = K_STD,
                  min_share: float = MIN_SHARE) -> ModeCoverage:
    """Coverage of the modes at ``centres`` (each a Gaussian of ``std``) by ``samples``."""
    x = torch.as_tensor(np.asarray(samples, dtype=np.float32)).reshape(-1, 2)
    c = torch.as_tensor(np.asarray(centres, dtype=np.float32)).reshape(-1, 2)
    _check(len(c) > 0 and std > 0, "Coverage needs at least one centre and a positive std.")
    n = len(x)
    finite = torch.isfinite(x).all(1)
    dist, nearest = torch.cdist(x[finite], c).min(1) if finite.any() else (
        torch.zeros(0), torch.zeros(0, dtype=torch.long))
    good = dist <= k * std
    counts = torch.bincount(nearest[good], minlength=len(c))
    need = max(1, math.ceil(min_share * n / len(c)))
    return ModeCoverage(int((counts >= need).sum()), len(c), tuple(int(v) for v in counts),
                        float(good.sum()) / max(1, n), n, need)


# ---- the 2-D GAN -----------------------------------------------------------------------------
@dataclass
class DecisionGrid:
    """The discriminator over a res x res grid of the plane (row 0 at the bottom).

    raw: its output; real: how real it finds each point, in [0, 1] (sigmoid of the logit for
    minimax and non-saturating, the output clipped for least squares, the critic's score
    scaled to the grid's own range for WGAN-GP, whose scores have no fixed scale)."""

    xs: np.ndarray
    ys: np.ndarray
    raw: np.ndarray
    real: np.ndarray


@dataclass
class LatentMap:
    """A res x res grid over the generator's input square [-1, 1]^2 and where G sends it."""

    latent: np.ndarray      # (res, res, 2)
    mapped: np.ndarray      # (res, res, 2)


class GAN2D:
    """A GAN on a 2-D target, trained step by step, with what GAN Lab draws.

    ``step(n)`` runs n training steps (``d_steps`` discriminator updates and one generator
    update each); ``step_discriminator`` and ``step_generator`` update one side alone. Every
    RECORD_EVERY steps ``history`` gets {"step", "d_loss", "g_loss"} (means
    since the last record) and, for a target with modes, "covered" and "high_quality". A step
    whose loss is not finite ends training: ``status`` becomes "diverged".
    """

    def __init__(self, target: Target, g_hidden=(64, 64), d_hidden=(64, 64),
                 loss: str = "non_saturating", lr_g: float = 1e-3, lr_d: float = 1e-3,
                 seed: int = 0, optimizer: str = "adam", batch_size: int = 128, d_steps: int = 1):
        _check(isinstance(target, Target), f"target must be a Target, got {type(target).__name__}.")
        self.target = target
        self.config = GANConfig(g_hidden=g_hidden, d_hidden=d_hidden, loss=loss, lr_g=lr_g,
                                lr_d=lr_d, seed=seed, optimizer=optimizer,
                                batch_size=batch_size, d_steps=d_steps, latent_dim=2)
        widest = max((*self.config.g_hidden, *self.config.d_hidden), default=1)
        _check(widest <= MAX_2D_NEURONS, f"On the plane, use at most {MAX_2D_NEURONS} neurons "
               f"per layer (got {widest:,}): more only slow the live view down.")
        self.gan = build_gan(self.config, 2)
        self.status = "ready"
        self.history: list[dict] = []
        self.last: dict = {}              # the losses of the latest update of each side
        self.lock = threading.RLock()     # one thread at a time trains or reads the networks
        self._real_rng = torch.Generator().manual_seed(seed + 1)
        self._sums = {"d_loss": 0.0, "g_loss": 0.0, "n": 0}
        self._seconds_per_step: float | None = None
        fixed = torch.Generator().manual_seed(seed + 2)   # the same fakes on every redraw
        self._eval_noise = torch.rand(EVAL_SAMPLES, 2, generator=fixed) * 2 - 1
        self._record()                                     # step 0: the untrained generator

    @classmethod
    def from_config(cls, target: Target, config: GANConfig) -> GAN2D:
        keys = ("g_hidden", "d_hidden", "loss", "lr_g", "lr_d", "seed", "optimizer",
                "batch_size", "d_steps")
        return cls(target, **{k: getattr(config, k) for k in keys})

    @property
    def steps(self) -> int:
        return self.gan.steps

    @property
    def done(self) -> bool:
        return self.status == "diverged" or self.steps >= MAX_STEPS

    # training ---------------------------------------------------------------------------------
    def step(self, n: int = 1, keep_going=None) -> int:
        """Train ``n`` steps (fewer if it diverges, reaches MAX_STEPS or ``keep_going()`` turns
        false); returns how many ran."""
        ran = 0
        with self.lock, single_thread():
            for _ in range(int(n)):
                if self.done or (keep_going is not None and not keep_going()):
                    break
                self._after(self.gan.step(self._real_batch))
                ran += 1
                if self.status == "diverged":
                    break
        return ran

    def step_discriminator(self) -> dict:
        """One discriminator update alone (GAN Lab's slow motion); returns its loss."""
        with self.lock, single_thread():
            if not self.done:
                self._after(self.gan.train_discriminator(self._real_batch), count=False)
            return dict(self.last)

    def step_generator(self) -> dict:
        """One generator update alone, against the discriminator as it is; returns its loss."""
        with self.lock, single_thread():
            if not self.done:
                self._after(self.gan.train_generator(), count=False)
            return dict(self.last)

    def _real_batch(self, n: int) -> torch.Tensor:
        return self.target.sample(n, self._real_rng)

    def _after(self, losses: dict, count: bool = True) -> None:
        """Keep the losses of an update; a full step (``count``) adds to the history."""
        self.last.update(losses)
        if not all(math.isfinite(v) for v in losses.values()):
            self.status = "diverged"
            self._record()
            return
        self.status = "training"
        if count:
            self._sums["d_loss"] += losses["d_loss"]
            self._sums["g_loss"] += losses["g_loss"]
            self._sums["n"] += 1
            if self.steps % RECORD_EVERY == 0:
                self._record()

    def run_chunk(self, seconds: float = 0.05, keep_going=None) -> int:
        """Train for about ``seconds`` of this thread's CPU time (at least one step), taking
        turns with other live GANs of the process; returns the steps run."""
        with GAN_TURN, single_thread():
            per_step = self._seconds_per_step
            n = 1 if per_step is None else int(min(500, max(1, seconds / per_step)))
            t0 = time.thread_time()
            ran = self.step(n, keep_going)
            if ran:
                took = max(1e-5, (time.thread_time() - t0) / ran)
                self._seconds_per_step = took if per_step is None else 0.5 * (per_step + took)
        return ran

    def set_learning_rates(self, lr_g: float, lr_d: float, d_steps: int | None = None) -> None:
        """Change learning rates (and discriminator steps) while keeping the networks."""
        new = self.config.replace(lr_g=lr_g, lr_d=lr_d,
                                  d_steps=self.config.d_steps if d_steps is None else d_steps)
        with self.lock:
            self.gan.set_learning_rates(new.lr_g, new.lr_d)
            self.gan.set_d_steps(new.d_steps)
            self.config = new

    def _record(self) -> None:
        n = self._sums["n"]     # None before any step; NaN once diverged
        row = {"step": self.steps,
               "d_loss": self._sums["d_loss"] / n if n else None,
               "g_loss": self._sums["g_loss"] / n if n else None}
        if self.status == "diverged":
            row.update(d_loss=float("nan"), g_loss=float("nan"))
        cov = self.coverage()
        if cov is not None:
            row.update(covered=cov.covered, high_quality=cov.high_quality)
        self.history.append(row)
        self._sums = {"d_loss": 0.0, "g_loss": 0.0, "n": 0}

    # what GAN Lab draws -----------------------------------------------------------------------
    @torch.no_grad()
    def samples(self, n: int = VIEW_SAMPLES) -> np.ndarray:
        """n fakes from a fixed latent batch (the same inputs on every call), (n, 2)."""
        _check(1 <= n <= EVAL_SAMPLES, f"n must be 1 to {EVAL_SAMPLES}, got {n}.")
        with self.lock, single_thread():
            return self.gan.G(self._eval_noise[:n]).numpy().copy()

    def real_samples(self, n: int = VIEW_SAMPLES) -> np.ndarray:
        """n real points (the same ones on every call), (n, 2)."""
        return self.target.sample(n, torch.Generator().manual_seed(self.config.seed)).numpy()

    @torch.no_grad()
    def decision_grid(self, res: int = 40) -> DecisionGrid:
        """The discriminator over a res x res grid of the plane."""
        _check(4 <= res <= 200, f"res must be 4 to 200, got {res}.")
        xs = np.linspace(*PLANE, res, dtype=np.float32)
        gx, gy = np.meshgrid(xs, xs)
        pts = torch.as_tensor(np.column_stack([gx.ravel(), gy.ravel()]))
        with self.lock, single_thread():
            raw = self.gan.D(pts).reshape(res, res).numpy().copy()
        loss = self.config.loss
        if loss in ("minimax", "non_saturating"):
            real = 1 / (1 + np.exp(-np.clip(raw, -60, 60)))
        elif loss == "least_squares":
            real = np.clip(raw, 0, 1)
        else:
            lo, hi = np.nanmin(raw), np.nanmax(raw)
            real = (raw - lo) / (hi - lo) if np.isfinite(hi - lo) and hi > lo else raw * 0 + 0.5
        return DecisionGrid(xs, xs.copy(), raw, real.astype(np.float32))

    @torch.no_grad()
    def latent_map(self, res: int = 11) -> LatentMap:
        """A res x res grid over the input square and where the generator sends each point."""
        _check(2 <= res <= 50, f"res must be 2 to 50, got {res}.")
        u = np.linspace(-1, 1, res, dtype=np.float32)
        gu, gv = np.meshgrid(u, u)
        latent = np.stack([gu, gv], axis=-1)
        with self.lock, single_thread():
            mapped = self.gan.G(torch.as_tensor(latent.reshape(-1, 2))).numpy()
        return LatentMap(latent, mapped.reshape(res, res, 2).copy())

    def fake_gradients(self, n: int = VIEW_SAMPLES) -> tuple[np.ndarray, np.ndarray]:
        """The fixed batch's first n fakes and, for each, the direction the generator's loss
        pushes it: minus the gradient of its own loss with respect to its position."""
        _check(1 <= n <= EVAL_SAMPLES, f"n must be 1 to {EVAL_SAMPLES}, got {n}.")
        with self.lock, single_thread():
            with torch.no_grad():
                fake = self.gan.G(self._eval_noise[:n])
            fake.requires_grad_(True)
            per_sample = generator_loss(self.config.loss, self.gan.D(fake), per_sample=True)
            (grad,) = torch.autograd.grad(per_sample.sum(), fake)
            for p in self.gan.D.parameters():
                p.grad = None
        return fake.detach().numpy().copy(), (-grad).numpy().copy()

    def coverage(self) -> ModeCoverage | None:
        """Mode coverage of EVAL_SAMPLES fakes (a fixed latent batch); None without modes."""
        if self.target.centres is None:
            return None
        with self.lock, torch.no_grad(), single_thread():
            fakes = self.gan.G(self._eval_noise)
        return mode_coverage(fakes, self.target.centres, self.target.std)

    def __repr__(self) -> str:
        c = self.config
        return (f"GAN2D({self.target.name!r}, G={list(c.g_hidden)}, D={list(c.d_hidden)}, "
                f"loss={c.loss!r}, step={self.steps}, status={self.status!r})")


# ---- mode collapse, measured -----------------------------------------------------------------
@dataclass
class CollapseComparison:
    """Healthy and collapsing settings trained on the ring, seed by seed.

    runs: {"healthy": [history per seed], "collapse": [...]}; final: the covered modes at the
    last step, per setting and seed; samples: each run's fakes at the end, (VIEW_SAMPLES, 2)."""

    steps: int
    seeds: tuple[int, ...]
    runs: dict
    final: dict
    samples: dict
    real: np.ndarray

    def summary(self) -> str:
        """The finding in words, from the numbers."""
        h, c = self.final.get("healthy", []), self.final.get("collapse", [])
        if not h or not c:
            return "Stopped before both settings finished a seed."
        n = RING_MODES
        return (f"After {self.steps:,} steps, the healthy setting covered "
                f"{', '.join(map(str, h))} of {n} modes (seeds {', '.join(map(str, self.seeds[:len(h)]))}); "
                f"the collapsing one {', '.join(map(str, c))}. Mean {np.mean(h):.1f} against "
                f"{np.mean(c):.1f}.")


def compare_collapse(steps: int = COMPARE_STEPS, seeds=(0, 1, 2), healthy: GANConfig = HEALTHY,
                     collapse: GANConfig = COLLAPSE, progress=None,
                     should_stop=None) -> CollapseComparison:
    """Train both settings on the ring for ``steps`` steps with each seed (a background job:
    ``progress(done, total)`` in steps, ``should_stop()`` checked every RECORD_EVERY steps;
    a stop keeps the seeds that finished)."""
    _check(100 <= steps <= MAX_STEPS, f"steps must be 100 to {MAX_STEPS:,}, got {steps}.")
    seeds = tuple(int(s) for s in seeds)
    _check(1 <= len(seeds) <= 5, "Use 1 to 5 seeds.")
    target = ring_target()
    result = CollapseComparison(steps, seeds, {"healthy": [], "collapse": []},
                                {"healthy": [], "collapse": []}, {"healthy": [], "collapse": []},
                                target.sample(VIEW_SAMPLES, torch.Generator().manual_seed(0)).numpy())
    total, done = 2 * steps * len(seeds), 0
    try:
        for seed in seeds:
            for name, config in (("healthy", healthy), ("collapse", collapse)):
                gan = GAN2D.from_config(target, config.replace(seed=seed))
                while gan.steps < steps and not gan.done:
                    check_stop(should_stop)
                    gan.step(min(RECORD_EVERY, steps - gan.steps))
                    if progress is not None:
                        progress(done + gan.steps, total)
                done += steps
                result.runs[name].append(gan.history)
                result.final[name].append(gan.history[-1].get("covered", 0))
                result.samples[name].append(gan.samples())
    except Cancelled:
        keep = min(len(result.final["healthy"]), len(result.final["collapse"]))
        for part in (result.runs, result.final, result.samples):
            for name in part:
                part[name] = part[name][:keep]
        raise Cancelled(result=result) from None
    return result


# ---- a GAN on handwritten digits -------------------------------------------------------------
# An MLP GAN on mnist5k's 5,000 digits (train and test together: a GAN has nothing to test).
# D learns at a third of G's rate: at equal rates it wins early and G's first epochs are one blur.
# 20 epochs of 78 steps took 15 s of CPU time on this 2-core machine (170 s of wall time while
# it was shared with a load average of 13).
DIGIT_GAN = GANConfig(g_hidden=(256,), d_hidden=(256,), latent_dim=32, batch_size=64,
                      lr_g=1e-3, lr_d=3e-4, loss="non_saturating")
DIGIT_EPOCHS = 20
DIGIT_SHOWN = 36          # the fixed latent batch: a 6 x 6 grid of digits per epoch


def train_digit_gan(dataset=None, epochs: int = DIGIT_EPOCHS, seed: int = 0, progress=None,
                    should_stop=None, config: GANConfig = DIGIT_GAN) -> ImageGANResult:
    """Train the digits GAN (``DIGIT_GAN``) on every image of ``dataset`` (default: mnist5k)
    for ``epochs`` epochs; a background job's ``progress`` and ``should_stop`` as in
    nnplay.train.jobs (a stop keeps the epochs finished)."""
    if dataset is None:
        from nnplay import data

        dataset = data.load("mnist5k")
    images = np.concatenate([dataset.X_train, dataset.X_test])
    _check(images.ndim == 4 and images.shape[1] == 1,
           f"The digits GAN needs grey images shaped (1, height, width); {dataset.name} has "
           f"examples shaped {tuple(images.shape[1:])}.")
    return train_image_gan(images, config.replace(seed=int(seed)), epochs, DIGIT_SHOWN,
                           progress=progress, should_stop=should_stop)
