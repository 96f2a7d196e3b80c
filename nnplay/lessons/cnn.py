"""The convolution explainer's arithmetic, and what a trained CNN computes, as plain numbers.

A kernel slides over a small image: at each position the window and the kernel are multiplied
element by element and summed (cross-correlation, as torch.nn.Conv2d does). ``conv_step`` gives
every number of one position; ``conv_fit`` says whether a (size, kernel, stride, padding)
combination fits and what the output-size formula gives; ``pool2d`` and ``pool_step`` do the same
for max and average pooling. ``learned_filters`` and ``layer_feature_maps`` turn a trained CNN's
weights and activations into numpy arrays for plotting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from nnplay.models.cnn import CONV_OUTPUT_SIZE_LATEX, conv_output_size

__all__ = ["CONV_OUTPUT_SIZE_LATEX", "KERNELS", "POOL_KINDS", "SAMPLE_IMAGES", "ConvFit",
           "ConvStep", "conv_fit", "conv_step", "convolve2d", "layer_feature_maps",
           "learned_filters", "make_kernel", "pool2d", "pool_step", "sample_image",
           "step_arithmetic"]

KERNELS = ("vertical edge", "horizontal edge", "box blur", "identity", "sharpen")
POOL_KINDS = ("max", "avg")
SAMPLE_IMAGES = ("square", "cross", "digit")


def sample_image(name: str = "square", size: int = 7) -> np.ndarray:
    """A small grey image of whole numbers 0..9 (readable arithmetic), shape (size, size).

    'square': a bright square on a dark floor (edges in both directions); 'cross': a plus sign;
    'digit': the first 8x8 digit of scikit-learn's digits, rescaled to 0..9 and cropped or padded.
    """
    size = int(size)
    if not 3 <= size <= 16:
        raise ValueError(f"The image size must be between 3 and 16, got {size}.")
    if name == "square":
        img = np.zeros((size, size))
        lo, hi = size // 4, size - size // 4
        img[lo:hi, lo:hi] = 9
    elif name == "cross":
        img = np.zeros((size, size))
        mid = size // 2
        img[mid, 1:-1] = img[1:-1, mid] = 9
    elif name == "digit":
        from sklearn.datasets import load_digits

        digit = np.round(load_digits().images[0] * 9 / 16)
        img = np.zeros((size, size))
        n = min(size, 8)
        img[:n, :n] = digit[:n, :n]
    else:
        raise ValueError(f"Unknown image {name!r}; choose one of {', '.join(SAMPLE_IMAGES)}.")
    return img.astype(np.float64)


def make_kernel(name: str = "vertical edge", size: int = 3) -> np.ndarray:
    """A named k x k kernel. Edge kernels subtract one side from the other; 'box blur' averages;
    'identity' copies the centre pixel; 'sharpen' is 2 x identity minus the box blur."""
    size = int(size)
    if not 1 <= size <= 7:
        raise ValueError(f"The kernel size must be between 1 and 7, got {size}.")
    kernel = np.zeros((size, size))
    centre = size // 2
    if name == "vertical edge":
        kernel[:, :centre] = -1.0
        kernel[:, size - centre:] = 1.0
    elif name == "horizontal edge":
        kernel[:centre, :] = -1.0
        kernel[size - centre:, :] = 1.0
    elif name == "box blur":
        kernel[:] = 1.0 / size**2
    elif name == "identity":
        kernel[centre, centre] = 1.0
    elif name == "sharpen":
        kernel[:] = -1.0 / size**2
        kernel[centre, centre] += 2.0
    else:
        raise ValueError(f"Unknown kernel {name!r}; choose one of {', '.join(KERNELS)}.")
    return kernel


@dataclass(frozen=True)
class ConvFit:
    """Whether a convolution fits an n x n input: the formula's terms, its result and a message."""

    size: int
    kernel: int
    stride: int
    padding: int
    output: int          # floor((n + 2p - k) / s) + 1; < 1 means the kernel does not fit
    leftover: int        # padded rows (and columns) at the far edge that no window reaches
    fits: bool
    message: str         # empty when everything fits exactly

    def formula(self) -> str:
        """The output-size formula with this combination's numbers, as LaTeX."""
        n, k, s, p = self.size, self.kernel, self.stride, self.padding
        return (rf"n_{{out}} = \left\lfloor \frac{{{n} + 2\cdot{p} - {k}}}{{{s}}} \right\rfloor + 1"
                rf" = \left\lfloor \frac{{{n + 2 * p - k}}}{{{s}}} \right\rfloor + 1 = {self.output}")


def conv_fit(size: int, kernel: int, stride: int = 1, padding: int = 0) -> ConvFit:
    """Output size of a convolution over an n x n input and whether the combination fits.

    It does not fit when the kernel is larger than the padded input (output < 1). It fits
    unevenly when the stride leaves rows at the edge that no window covers; padding wider than
    the kernel gives windows that see only zeros. Both are reported in ``message``.
    """
    out = conv_output_size(size, kernel, stride, padding)
    padded = size + 2 * padding
    if out < 1:
        return ConvFit(size, kernel, stride, padding, out, 0, False,
                       f"A {kernel}x{kernel} kernel does not fit in a {padded}x{padded} padded "
                       "input: use a smaller kernel or more padding.")
    leftover = (padded - kernel) % stride
    message = ""
    if leftover:
        message = (f"The stride does not tile the input: the last {leftover} padded row(s) and "
                   f"column(s) are never covered. Change the stride or the padding so that "
                   f"(n + 2p - k) = {padded - kernel} is a multiple of s = {stride}.")
    elif padding >= kernel:
        message = (f"Padding {padding} is at least the kernel size {kernel}: the outer windows "
                   "see only zeros. Use padding below the kernel size, e.g. (k - 1) / 2.")
    return ConvFit(size, kernel, stride, padding, out, leftover, True, message)


def _check_2d(image: np.ndarray, kernel: np.ndarray, stride: int, padding: int):
    image, kernel = np.asarray(image, dtype=np.float64), np.asarray(kernel, dtype=np.float64)
    if image.ndim != 2 or kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError("Give a 2-D image and a square 2-D kernel.")
    if image.shape[0] != image.shape[1]:
        raise ValueError(f"The explainer uses square images, got {image.shape}.")
    fit = conv_fit(image.shape[0], kernel.shape[0], stride, padding)
    if not fit.fits:
        raise ValueError(fit.message)
    return np.pad(image, int(padding)), kernel, fit


def convolve2d(image: np.ndarray, kernel: np.ndarray, stride: int = 1,
               padding: int = 0) -> np.ndarray:
    """The whole output map, computed window by window as the explainer shows it (no flip)."""
    padded, kernel, fit = _check_2d(image, kernel, stride, padding)
    k, out = kernel.shape[0], np.zeros((fit.output, fit.output))
    for i in range(fit.output):
        for j in range(fit.output):
            window = padded[i * stride:i * stride + k, j * stride:j * stride + k]
            out[i, j] = float((window * kernel).sum())
    return out


@dataclass(frozen=True)
class ConvStep:
    """Everything shown at one kernel position: where it is, the numbers and the map so far."""

    index: int                 # position number, row by row from 0
    row: int                   # output row and column of this position
    col: int
    top: int                   # the window's top-left corner in the padded image
    left: int
    padded: np.ndarray         # the zero-padded input
    window: np.ndarray         # the k x k patch under the kernel
    kernel: np.ndarray
    products: np.ndarray       # window * kernel, element by element
    value: float               # their sum: the output at (row, col)
    output: np.ndarray         # the output map with positions after this one still NaN
    n_positions: int


def conv_step(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0,
              index: int = 0) -> ConvStep:
    """The kernel at position ``index`` (row-major over the output, clipped into range)."""
    padded, kernel, fit = _check_2d(image, kernel, stride, padding)
    n_positions = fit.output**2
    index = int(min(max(index, 0), n_positions - 1))
    row, col = divmod(index, fit.output)
    k, top, left = kernel.shape[0], row * stride, col * stride
    window = padded[top:top + k, left:left + k]
    products = window * kernel
    output = convolve2d(image, kernel, stride, padding).ravel()
    output[index + 1:] = np.nan
    return ConvStep(index, row, col, top, left, padded, window, kernel, products,
                    float(products.sum()), output.reshape(fit.output, fit.output), n_positions)


def _number(x: float) -> str:
    text = f"{x:.3g}"
    return f"({text})" if x < 0 else text


def step_arithmetic(step: ConvStep, max_terms: int = 9) -> str:
    """The sum at one position as LaTeX: w * x + ... = value (zero-valued pairs skipped)."""
    pairs = [(w, x) for w, x in zip(step.kernel.ravel(), step.window.ravel(), strict=True)
             if w != 0 and x != 0]
    terms = [rf"{_number(w)}\cdot{_number(x)}" for w, x in pairs[:max_terms]]
    if len(pairs) > max_terms:
        rest = sum(w * x for w, x in pairs[max_terms:])
        terms.append(rf"\underbrace{{\dots}}_{{{len(pairs) - max_terms}\ \text{{more}}: {rest:.3g}}}")
    left = " + ".join(terms) if terms else "0"
    return rf"y_{{{step.row},{step.col}}} = {left} = {step.value:.4g}"


def pool2d(image: np.ndarray, size: int = 2, kind: str = "max") -> np.ndarray:
    """Max or average pooling with a size x size window and stride = size (as nn.MaxPool2d(size))."""
    if kind not in POOL_KINDS:
        raise ValueError(f"Unknown pooling {kind!r}; choose 'max' or 'avg'.")
    image = np.asarray(image, dtype=np.float64)
    out = conv_output_size(image.shape[0], size, size)
    if out < 1:
        raise ValueError(f"A {size}x{size} pooling window does not fit a {image.shape[0]}-pixel "
                         "image; use a smaller window.")
    reduce = np.max if kind == "max" else np.mean
    return np.array([[reduce(image[i * size:(i + 1) * size, j * size:(j + 1) * size])
                      for j in range(out)] for i in range(out)])


def pool_step(image: np.ndarray, size: int = 2, kind: str = "max", index: int = 0) -> dict:
    """One pooling window: its position, the values in it and what it keeps."""
    pooled = pool2d(image, size, kind)
    index = int(min(max(index, 0), pooled.size - 1))
    row, col = divmod(index, pooled.shape[1])
    window = np.asarray(image, dtype=np.float64)[row * size:(row + 1) * size,
                                                 col * size:(col + 1) * size]
    return {"row": row, "col": col, "top": row * size, "left": col * size, "window": window,
            "value": float(pooled[row, col]), "pooled": pooled}


# ---- a trained CNN, as numbers ---------------------------------------------------------------

def learned_filters(model) -> np.ndarray:
    """The first conv layer's kernels averaged over input channels: (out_channels, k, k)."""
    convs = model.conv_layers()
    return convs[0].weight.detach().cpu().mean(dim=1).numpy()


def layer_feature_maps(model, image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(layer name, maps (channels, H, W)) after every conv, activation and pooling layer for one
    image of the model's input shape, e.g. (1, 28, 28)."""
    x = torch.as_tensor(np.asarray(image, dtype=np.float32)).unsqueeze(0)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        maps = model.feature_maps(x.to(device))
    finally:
        model.train(was_training)
    return [(name, m[0].cpu().numpy()) for name, m in maps]


# The share of the image side a digit fills: MNIST centres each digit in a 20x20 box of 28x28;
# the 8x8 digits fill their frame.
DIGIT_BOX = {28: 20 / 28, 8: 1.0}


def prepare_drawing(grid: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """A drawing (a square grid of brightness in [0, 1], white on black) as the model's input:
    cropped to the strokes, scaled so its longer side fills the box the dataset's digits fill,
    and centred by its centre of mass as MNIST's digits are. Returns ``input_shape`` float32."""
    from PIL import Image

    grid = np.asarray(grid, dtype=np.float32)
    if grid.ndim != 2 or grid.shape[0] != grid.shape[1]:
        raise ValueError(f"A drawing is a square grid of brightness, got shape {grid.shape}.")
    if len(input_shape) != 3 or input_shape[0] != 1 or input_shape[1] != input_shape[2]:
        raise ValueError(f"Drawings feed one-channel square images, not {input_shape}.")
    side = input_shape[1]
    ink = np.argwhere(grid > 0.1)
    if len(ink) == 0:
        raise ValueError("The drawing is empty: draw a digit first.")
    (top, left), (bottom, right) = ink.min(axis=0), ink.max(axis=0) + 1
    crop = grid[top:bottom, left:right]
    box = max(1, int(round(DIGIT_BOX.get(side, 20 / 28) * side)))
    scale = box / max(crop.shape)
    h, w = max(1, int(round(crop.shape[0] * scale))), max(1, int(round(crop.shape[1] * scale)))
    small = np.asarray(Image.fromarray(crop).resize((w, h), Image.Resampling.LANCZOS),
                       dtype=np.float32).clip(0.0, 1.0)
    out = np.zeros((side, side), dtype=np.float32)
    # centre of mass of the scaled digit placed at the image centre (clipped into the frame)
    mass = small.sum() or 1.0
    cy = float((small.sum(axis=1) * np.arange(h)).sum() / mass)
    cx = float((small.sum(axis=0) * np.arange(w)).sum() / mass)
    y0 = int(np.clip(round(side / 2 - cy - 0.5), 0, side - h))
    x0 = int(np.clip(round(side / 2 - cx - 0.5), 0, side - w))
    out[y0:y0 + h, x0:x0 + w] = small
    if out.max() > 0:
        out /= out.max()
    return out[None]


def channel_convolution(model, image: np.ndarray, layer: int, channel: int) -> dict:
    """What one channel of conv layer ``layer`` (0-based) computes on ``image``: its input maps,
    its kernel for each input channel, each input's contribution, the bias, and the sum (the
    channel's map before the activation). The sum equals the layer's real output."""
    convs = model.conv_layers()
    if not 0 <= layer < len(convs):
        raise ValueError(f"The model has {len(convs)} conv layers; pick 1 to {len(convs)}.")
    conv = convs[layer]
    if not 0 <= channel < conv.out_channels:
        raise ValueError(f"Layer {layer + 1} has {conv.out_channels} channels; pick 1 to "
                         f"{conv.out_channels}.")
    x = torch.as_tensor(np.asarray(image, dtype=np.float32)).unsqueeze(0)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            inputs = _conv_input(model, x.to(device), conv)[0]         # (C_in, H, W)
            weight = conv.weight[channel]                              # (C_in, k, k)
            parts = torch.stack([torch.nn.functional.conv2d(
                inputs[i:i + 1][None], weight[i:i + 1][None], stride=conv.stride,
                padding=conv.padding)[0, 0] for i in range(inputs.shape[0])])
            bias = float(conv.bias[channel]) if conv.bias is not None else 0.0
            output = conv(inputs[None])[0, channel]
    finally:
        model.train(was_training)
    return {"inputs": inputs.cpu().numpy(), "kernels": weight.detach().cpu().numpy(),
            "contributions": parts.cpu().numpy(), "bias": bias,
            "sum": (parts.sum(0) + bias).cpu().numpy(), "output": output.cpu().numpy()}


def _conv_input(model, x: torch.Tensor, target) -> torch.Tensor:
    """The tensor that flows into the module ``target`` when ``model`` runs on ``x``."""
    seen = {}

    def keep(module, args, out) -> None:   # returns None: the layer's output stays as it is
        seen.setdefault("x", args[0])

    handle = target.register_forward_hook(keep)
    try:
        model(x)
    finally:
        handle.remove()
    return seen["x"]
