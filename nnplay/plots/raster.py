"""Raster versions of the Playground's live maps: NumPy RGB images instead of plotly figures.

While a network trains, the output map and the neuron maps are redrawn several times a second.
A plotly heatmap with hundreds of outlined markers costs the browser ~100 ms to redraw; an image
costs almost nothing, so the live view shows these images and the interactive figures return
when training pauses. Same colours as nnplay.plots.playground.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nnplay.plots.playground import CLASS_COLORS, DIVERGING, tile_neuron_maps


def _rgb(hex_colour: str) -> np.ndarray:
    h = hex_colour.lstrip("#")
    return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], dtype=float)


def colorize(z: np.ndarray, zmin: float, zmax: float, scale=DIVERGING) -> np.ndarray:
    """Map values to RGB (float 0-255) along a plotly-style colourscale [[position, '#rrggbb']]."""
    positions = np.array([p for p, _ in scale], dtype=float)
    colours = np.stack([_rgb(c) for _, c in scale])
    t = np.clip((np.asarray(z, dtype=float) - zmin) / ((zmax - zmin) or 1.0), 0.0, 1.0)
    t = np.nan_to_num(t, nan=0.5)
    return np.stack([np.interp(t, positions, colours[:, k]) for k in range(3)], axis=-1)


def _disks(radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Masks of a dot and of its inside (one pixel less), on the same square grid."""
    r = np.arange(-radius, radius + 1)
    d2 = r[:, None] ** 2 + r[None, :] ** 2
    return d2 <= radius ** 2, d2 <= (radius - 1) ** 2


def _stamp(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, colours: np.ndarray,
           outline: np.ndarray, radius: int = 3) -> None:
    """Draw filled, outlined dots at pixel positions (in place)."""
    outer, inner = _disks(radius)
    h, w = image.shape[:2]
    for r, c, colour in zip(rows, cols, colours):
        r0, c0 = r - radius, c - radius
        if r0 < 0 or c0 < 0 or r0 + outer.shape[0] > h or c0 + outer.shape[1] > w:
            continue
        patch = image[r0:r0 + outer.shape[0], c0:c0 + outer.shape[1]]
        patch[outer] = outline
        patch[inner] = colour


def output_image(xs: np.ndarray, ys: np.ndarray, output: np.ndarray, task: str,
                 X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray | None = None,
                 y_test: np.ndarray | None = None, n_classes: int = 2, discretize: bool = False,
                 scale: int = 6) -> np.ndarray:
    """The output map with the data points on it, as a uint8 RGB image (top row = largest x2)."""
    z = np.asarray(output, dtype=float)
    if task == "classification" and n_classes > 2:
        palette = np.stack([_rgb(c) for c in CLASS_COLORS[:n_classes]])
        rgb = palette[np.clip(np.rint(z).astype(int), 0, n_classes - 1)]
        opacity = 0.6
    else:
        lo, hi = (0.0, 1.0) if task == "classification" else (-1.0, 1.0)
        if discretize:
            z = (z > 0.5).astype(float) if task == "classification" else np.sign(z)
        rgb, opacity = colorize(z, lo, hi), 0.75
    rgb = opacity * rgb + (1 - opacity) * 255.0          # plotly's opacity over a white page
    image = np.repeat(np.repeat(rgb[::-1], scale, axis=0), scale, axis=1)
    height, width = image.shape[:2]
    splits = [(X_train, y_train, np.full(3, 255.0))]
    if X_test is not None and y_test is not None:
        splits.append((X_test, y_test, np.zeros(3)))
    for X, y, outline in splits:
        if len(X) == 0:
            continue
        cols = np.rint((X[:, 0] - xs[0]) / (xs[-1] - xs[0]) * (width - 1)).astype(int)
        rows = np.rint((ys[-1] - X[:, 1]) / (ys[-1] - ys[0]) * (height - 1)).astype(int)
        if task == "classification":
            palette = np.stack([_rgb(c) for c in CLASS_COLORS])
            colours = palette[np.clip(np.asarray(y, dtype=int), 0, len(CLASS_COLORS) - 1)]
        else:
            colours = colorize(np.asarray(y, dtype=float), -1.0, 1.0)
        _stamp(image, rows, cols, colours, outline)
    return image.clip(0, 255).astype(np.uint8)


def neuron_maps_image(neurons: Sequence[np.ndarray], per_layer: int = 8, scale: int = 3) -> np.ndarray:
    """Each hidden neuron's map tiled (a column per layer) as a uint8 RGB image; gaps are white."""
    tiles, _ = tile_neuron_maps(neurons, per_layer)
    rgb = colorize(tiles, -1.0, 1.0)
    rgb[np.isnan(tiles)] = 255.0
    image = np.repeat(np.repeat(rgb[::-1], scale, axis=0), scale, axis=1)
    return image.clip(0, 255).astype(np.uint8)


def network_image(layer_sizes: Sequence[int], weights: Sequence[np.ndarray], width: int = 360,
                  max_neurons: int = 32) -> np.ndarray:
    """The network as an RGB image: inputs left, outputs right; an edge's width grows with |w|
    (relative to the largest) and its colour shows the sign (blue +, orange -)."""
    from PIL import Image, ImageDraw

    sizes = [min(int(n), max_neurons) for n in layer_sizes]
    if len(weights) != len(sizes) - 1:
        raise ValueError(f"{len(sizes)} layers need {len(sizes) - 1} weight matrices, "
                         f"got {len(weights)}.")
    tallest = max(sizes)
    step = 26 if tallest <= 10 else 12
    height = step * tallest + 20
    xs = np.linspace(20, width - 20, len(sizes))

    def node(layer: int, k: int) -> tuple[float, float]:
        offset = (tallest - sizes[layer]) * step / 2
        return float(xs[layer]), 10 + offset + step * (k + 0.5)

    largest = max((float(np.abs(w).max()) for w in weights if w.size), default=1.0) or 1.0
    edges = []
    for layer, w in enumerate(weights):
        w = np.asarray(w, dtype=float)[:sizes[layer + 1], :sizes[layer]]
        for j, i in zip(*np.nonzero(np.ones_like(w, dtype=bool))):
            edges.append((abs(w[j, i]) / largest, w[j, i] >= 0, node(layer, i), node(layer + 1, j)))
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    white = np.full(3, 255.0)
    for strength, positive, a, b in sorted(edges, key=lambda e: e[0]):
        colour = _rgb("#0877bd" if positive else "#f59322")
        alpha = 0.25 + 0.75 * strength
        rgb = tuple(int(v) for v in alpha * colour + (1 - alpha) * white)
        draw.line([a, b], fill=rgb, width=max(1, int(round(1 + 5 * strength))))
    radius = 7 if tallest <= 10 else 4
    for layer, n in enumerate(sizes):
        fill = "#888888" if layer in (0, len(sizes) - 1) else "#444444"
        for k in range(n):
            x, y = node(layer, k)
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=fill, outline="white")
    return np.asarray(image)
