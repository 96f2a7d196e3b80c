"""What the GANs page shows: the live view's numbers, the settings behind its widgets and the
sentences it says, each built from the engine's numbers.

``view_payload(gan)`` (drawn on canvas in the browser by nnplay.ui.gan_view, as GAN Lab draws)
holds: the discriminator over the plane (how real it finds each point, in
[0, 1]), the real and the fake samples, the push on each fake (the generator's gradient), the
generator's map of a grid over its input square, the ring's modes with which are covered, and
the history for the curves. Values are rounded so a refresh stays small; anything not finite (a
diverged GAN) becomes None, which JSON carries as null. ``config_from_widgets`` and
``preset_widgets`` turn the page's widget values into a GANConfig and back.
"""

from __future__ import annotations

import math

import numpy as np

from nnplay.lessons.gan import (
    COLLAPSE,
    COMPARE_STEPS,
    GAN2D,
    HEALTHY,
    K_STD,
    MAX_STEPS,
    MIN_SHARE,
    PLANE,
    PRESETS,
    RING_MODES,
    RING_STD,
    VIEW_SAMPLES,
)
from nnplay.models.gan import LOSSES, GANConfig, ImageGANResult

RESOLUTION = 40          # the discriminator's map: 40 x 40 over the plane, upsampled smoothly
LATENT_RES = 11          # the generator's input grid: 11 x 11 points, 10 x 10 cells
ARROWS = 120             # fakes that get an arrow (all of them would hide the map)
CURVE_POINTS = 200       # the curves get at most this many history rows (evenly spaced)


def rounded(values, digits: int = 3) -> list:
    """A flat list of floats rounded to ``digits``; values that are not finite become None."""
    a = np.round(np.asarray(values, dtype=np.float64).ravel(), digits)
    finite = np.isfinite(a)
    if finite.all():
        return a.tolist()
    return [float(v) if ok else None for v, ok in zip(a, finite)]


def thin(rows: list[dict], most: int = CURVE_POINTS) -> list[dict]:
    """At most ``most`` rows, evenly spaced, always keeping the first and the last."""
    if len(rows) <= most:
        return rows
    keep = np.unique(np.linspace(0, len(rows) - 1, most).round().astype(int))
    return [rows[i] for i in keep]


def view_payload(gan: GAN2D, resolution: int = RESOLUTION, latent_res: int = LATENT_RES,
                 n_points: int = VIEW_SAMPLES, n_arrows: int = ARROWS) -> dict:
    """Everything the view draws for the GAN as it is now, as JSON-ready lists."""
    with gan.lock:      # one consistent state: not in the middle of a training step
        grid = gan.decision_grid(resolution)
        real = gan.real_samples(n_points)
        fake = gan.samples(n_points)
        at, push = gan.fake_gradients(n_arrows)
        latent = gan.latent_map(latent_res)
        coverage = gan.coverage()
        history = thin(list(gan.history))
        steps, status = gan.steps, gan.status
    # Arrows are drawn to a common scale: the longest is a tenth of the plane.
    lengths = np.linalg.norm(push, axis=1)
    finite = lengths[np.isfinite(lengths)]
    longest = float(finite.max()) if finite.size else 0.0
    scale = (PLANE[1] - PLANE[0]) / 10 / longest if longest > 0 else 0.0
    target = gan.target
    payload = {
        "plane": list(PLANE),
        "res": int(resolution),
        "real_map": rounded(grid.real, 3),
        "loss": gan.config.loss,
        "real": {"x": rounded(real[:, 0], 2), "y": rounded(real[:, 1], 2)},
        "fake": {"x": rounded(fake[:, 0], 2), "y": rounded(fake[:, 1], 2)},
        "arrows": {"x": rounded(at[:, 0], 2), "y": rounded(at[:, 1], 2),
                   "dx": rounded(push[:, 0] * scale, 3), "dy": rounded(push[:, 1] * scale, 3)},
        "gradient_max": longest if np.isfinite(longest) else None,
        "latent_res": int(latent_res),
        "manifold": {"x": rounded(latent.mapped[..., 0], 2), "y": rounded(latent.mapped[..., 1], 2)},
        "modes": None,
        "step": int(steps),
        "status": status,
        "curves": {
            "step": [int(h["step"]) for h in history],
            "d_loss": rounded([h["d_loss"] for h in history], 4),
            "g_loss": rounded([h["g_loss"] for h in history], 4),
            "covered": [h.get("covered") for h in history],
            "high_quality": rounded([h.get("high_quality", np.nan) for h in history], 3),
        },
    }
    if target.centres is not None:
        payload["modes"] = {"x": rounded(target.centres[:, 0], 3),
                            "y": rounded(target.centres[:, 1], 3),
                            "radius": float(K_STD * target.std),
                            "counts": list(coverage.counts),
                            "high_quality": round(coverage.high_quality, 3),
                            "covered": coverage.covered, "n": coverage.n_modes,
                            "need": coverage.need}
    return payload


# ---- the page's settings ---------------------------------------------------------------------
LIVE = ("lr_g", "lr_d", "d_steps")      # change while training; anything else is a new GAN


def preset_widgets(name: str) -> dict:
    """A preset (PRESETS) as the page's widget values: layers, neurons, loss, optimizer, rates."""
    config = PRESETS[name]
    return {"g_layers": len(config.g_hidden), "g_neurons": config.g_hidden[0] if config.g_hidden else 16,
            "d_layers": len(config.d_hidden), "d_neurons": config.d_hidden[0] if config.d_hidden else 16,
            "loss": config.loss, "optimizer": config.optimizer, "lr_g": config.lr_g,
            "lr_d": config.lr_d, "d_steps": config.d_steps}


def config_from_widgets(values: dict) -> GANConfig:
    """The GANConfig the widgets describe (layers of equal width); ValueError says what to
    change."""
    def hidden(who: str) -> tuple[int, ...]:
        return (int(values[f"{who}_neurons"]),) * int(values[f"{who}_layers"])

    return GANConfig(g_hidden=hidden("g"), d_hidden=hidden("d"), loss=values["loss"],
                     optimizer=values["optimizer"], lr_g=float(values["lr_g"]),
                     lr_d=float(values["lr_d"]), d_steps=int(values["d_steps"]),
                     seed=int(values["seed"]))


def structure_key(config: GANConfig) -> tuple:
    """What a live GAN is built from: every setting except those in LIVE."""
    return tuple((k, str(v)) for k, v in config.to_dict().items() if k not in LIVE)


def live_changes(old: GANConfig, new: GANConfig) -> list[str]:
    return [k for k in LIVE if getattr(old, k) != getattr(new, k)]


def changes_text(old: GANConfig, new: GANConfig) -> str:
    """'loss: minimax → non-saturating; generator: 4 → 64, 64' for the settings that differ."""
    names = {"g_hidden": "generator", "d_hidden": "discriminator", "loss": "loss",
             "optimizer": "optimizer", "seed": "seed", "batch_size": "batch size"}

    def text(name, value):
        if name.endswith("hidden"):
            return ", ".join(map(str, value)) or "no hidden layer"
        return LOSSES.get(value, str(value))

    parts = [f"{label}: {text(k, getattr(old, k))} → {text(k, getattr(new, k))}"
             for k, label in names.items() if getattr(old, k) != getattr(new, k)]
    return "; ".join(parts)


# ---- words and numbers for a person -------------------------------------------------------------
def shown(value, digits: int = 3) -> str:
    """A number for a person: '–' before it exists, 'diverged' when it is not finite."""
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if math.isfinite(value) else "diverged"


def live_metrics(gan: GAN2D, payload: dict) -> list[tuple[str, str]]:
    """(label, value) pairs above the live view: step, the latest losses, coverage."""
    last = gan.last if gan.steps or gan.gan.d_updates else {}
    diverged = gan.status == "diverged"
    loss = (lambda k: "diverged") if diverged else (lambda k: shown(last.get(k)))
    out = [("Step", f"{gan.steps:,}"), ("D loss", loss("d_loss")), ("G loss", loss("g_loss"))]
    modes = payload.get("modes")
    if modes is not None:
        out.append(("Modes covered", f"{modes['covered']} of {modes['n']}"))
        out.append(("High-quality samples", f"{modes['high_quality']:.0%}"))
    else:
        out.append(("D updates", f"{gan.gan.d_updates:,}"))
    return out


def status_text(gan: GAN2D) -> str:
    """Where a live GAN stands, in a sentence ('' while it trains normally)."""
    if gan.status == "diverged":
        return (f"Training diverged at step {gan.steps:,}: a loss stopped being a number. "
                "Lower the learning rates, then Reset.")
    if gan.steps >= MAX_STEPS:
        return f"Stopped at the live limit of {MAX_STEPS:,} steps; Reset to start again."
    return ""


def _describe(config: GANConfig) -> str:
    g = ", ".join(map(str, config.g_hidden)) or "no hidden layer"
    d = ", ".join(map(str, config.d_hidden)) or "no hidden layer"
    return (f"generator {g}, discriminator {d}, {LOSSES[config.loss]} loss, "
            f"{config.optimizer.capitalize() if config.optimizer == 'adam' else 'SGD'} with "
            f"learning rates {config.lr_g:g} for G and {config.lr_d:g} for D")


INTRO = (
    "A **generator** G turns random noise z (two numbers, uniform in the square [-1, 1]²) into "
    "points on the plane; a **discriminator** D scores points as real or fake. D learns from "
    "real samples and G's fakes; G learns from D's gradient: the arrows show where each fake "
    "is pushed. Play trains both in turns; *Step D* and *Step G* make one update of one side. "
    f"Presets: **healthy** ({_describe(HEALTHY)}) and **mode collapse** ({_describe(COLLAPSE)}).")

COLLAPSE_TEXT = (
    "**Mode collapse**: the generator covers a few modes of the data and ignores the rest, "
    f"because fooling D on one mode is enough. On the ring of {RING_MODES} Gaussians it can be "
    f"counted: a mode is *covered* when at least {MIN_SHARE:.0%} of its fair share of "
    f"generated samples lands within {K_STD:g} std ({K_STD * RING_STD:g}) of its centre, and a "
    f"sample is *high quality* when it lies that close to any centre. This runs the healthy "
    f"setting ({_describe(HEALTHY)}) and the collapsing one ({_describe(COLLAPSE)}) for the "
    f"same number of steps ({COMPARE_STEPS:,} by default), seed by seed, in the background.")


def digits_text(config: GANConfig, epochs: int, n_images: int = 5000) -> str:
    """What the digits section trains, and what to expect of it."""
    steps = n_images // config.batch_size
    return (
        f"A GAN of two small MLPs (generator {config.latent_dim} → "
        f"{', '.join(map(str, config.g_hidden))} → 784 pixels, discriminator 784 → "
        f"{', '.join(map(str, config.d_hidden))} → 1) on mnist5k's {n_images:,} handwritten "
        f"digits: {steps} steps of {config.batch_size} images per epoch, {epochs} epochs by "
        "default, in the background (Stop keeps the epochs finished). After every epoch the "
        "same 36 noise vectors go through the generator, so you see the same inputs improve. "
        "Expect a blur that is the same for every input first, then speckled strokes, then "
        "digit-like shapes: an MLP this small on 5,000 images does not draw clean digits, and "
        "some digits come up more often than others (a mild mode collapse).")


def digit_summary(result: ImageGANResult) -> str:
    """What the digits run did, with its measured numbers."""
    if not result.history:
        return "Stopped before the first epoch ended: nothing to show yet."
    last = result.history[-1]
    ended = {"completed": "finished", "stopped": "was stopped", "diverged": "diverged"}
    text = (f"The run {ended.get(result.status, result.status)} after {result.epochs} "
            f"epoch{'s' if result.epochs != 1 else ''} at {result.seconds_per_epoch:.1f} s per "
            "epoch on this machine.")
    if last.get("d_real") is not None:
        text += (f" In the last epoch the discriminator gave real digits "
                 f"{last['d_real']:.2f} and the shown fakes {last['d_fake']:.2f} (its P(real); "
                 "0.5 for both would mean it cannot tell them apart).")
    return text
