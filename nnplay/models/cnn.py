"""Convolutional networks: conv blocks (conv, batch norm, activation, pooling, dropout) and a
fully connected head, plus the output-size formula every convolution lesson needs.

A block is ``Conv2d -> [BatchNorm2d] -> activation -> [pool] -> [Dropout2d]``. The layers sit flat
in ``CNN.features`` with names such as ``conv1``, ``bn1``, ``relu1``, ``pool1``, so hooks, the
model summary and the feature-map viewer read like the diagram a learner draws.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from nnplay.models.activations import activation_module, check_activation

POOLS = ("max", "avg", None)

# The formula shown to learners; conv_output_size computes exactly this.
CONV_OUTPUT_SIZE_LATEX = (r"n_{out} = \left\lfloor \frac{n_{in} + 2p - d\,(k - 1) - 1}{s} \right\rfloor + 1")


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0,
                     dilation: int = 1) -> int:
    """Output length of a convolution or pooling window along one axis.

    ``floor((size + 2*padding - dilation*(kernel - 1) - 1) / stride) + 1``, as in torch.nn.Conv2d.
    The result can be zero or negative: that means the window does not fit.
    """
    size, kernel, stride, padding, dilation = (int(v) for v in (size, kernel, stride, padding,
                                                                dilation))
    if size < 1:
        raise ValueError(f"The input size must be at least 1, got {size}.")
    if kernel < 1 or stride < 1 or dilation < 1:
        raise ValueError(f"kernel, stride and dilation must be at least 1, got kernel={kernel}, "
                         f"stride={stride}, dilation={dilation}.")
    if padding < 0:
        raise ValueError(f"padding must be 0 or more, got {padding}.")
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _per_block(value, n_blocks: int, what: str) -> list[int]:
    """One int per block: a single int is repeated, a sequence must have one entry per block."""
    if isinstance(value, (int, float)):
        return [int(value)] * n_blocks
    values = [int(v) for v in value]
    if len(values) != n_blocks:
        raise ValueError(f"Got {len(values)} values for {what} but {n_blocks} conv blocks; "
                         f"give one {what} or one per block.")
    return values


def _fit_message(block: int, stage: str, size: int, kernel: int, stride: int, padding: int,
                 out: int) -> str:
    return (f"Block {block} does not fit: its {stage} turns a {size}x{size} input into "
            f"floor(({size} + 2*{padding} - ({kernel} - 1) - 1) / {stride}) + 1 = {out}. "
            "Use a smaller kernel or stride, more padding, no pooling, or fewer blocks.")


class CNN(nn.Module):
    """Conv blocks (``features``) followed by a fully connected ``head`` that outputs logits.

    Accepts images of shape (batch, C, H, W); a flat batch (batch, C*H*W) is reshaped first.
    """

    def __init__(self, input_shape: Sequence[int] = (1, 28, 28), n_outputs: int = 10,
                 channels: Sequence[int] = (16, 32), kernel_size: int | Sequence[int] = 3,
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 1,
                 pool: str | None = "max", pool_size: int = 2, batch_norm: bool = False,
                 dropout: float = 0.0, hidden: Sequence[int] = (64,), activation: str = "relu"):
        super().__init__()
        shape = tuple(int(s) for s in input_shape)
        if len(shape) == 2:  # a grey image given as (H, W)
            shape = (1, *shape)
        if len(shape) != 3 or min(shape) < 1:
            raise ValueError(f"input_shape must be (channels, height, width), got {input_shape}.")
        channels, hidden = [int(c) for c in channels], [int(h) for h in hidden]
        if not channels:
            raise ValueError("A CNN needs at least one conv block; give channels, e.g. (16, 32).")
        if any(c < 1 for c in channels) or any(h < 1 for h in hidden):
            raise ValueError(f"Every layer needs at least one channel or unit, got channels="
                             f"{channels}, hidden={hidden}.")
        if int(n_outputs) < 1:
            raise ValueError(f"n_outputs must be at least 1, got {n_outputs}.")
        pool = None if pool in (None, "none", "None") else str(pool).lower()
        if pool not in POOLS:
            raise ValueError(f"Unknown pool {pool!r}; choose 'max', 'avg' or None.")
        if int(pool_size) < 1:
            raise ValueError(f"pool_size must be at least 1, got {pool_size}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
        activation = check_activation(activation)
        n_blocks = len(channels)
        kernels = _per_block(kernel_size, n_blocks, "kernel_size")
        strides = _per_block(stride, n_blocks, "stride")
        paddings = _per_block(padding, n_blocks, "padding")

        self.input_shape, self.n_outputs = shape, int(n_outputs)
        self.channels, self.kernel_size, self.stride, self.padding = channels, kernels, strides, paddings
        self.pool, self.pool_size, self.batch_norm = pool, int(pool_size), bool(batch_norm)
        self.dropout, self.hidden, self.activation = float(dropout), hidden, activation

        layers: OrderedDict[str, nn.Module] = OrderedDict()
        in_ch, height, width = shape
        for i, (out_ch, k, s, p) in enumerate(
                zip(channels, kernels, strides, paddings, strict=True), start=1):
            new_h = conv_output_size(height, k, s, p)
            new_w = conv_output_size(width, k, s, p)
            if min(new_h, new_w) < 1:
                small = height if new_h < 1 else width
                raise ValueError(_fit_message(i, "convolution", small, k, s, p, min(new_h, new_w)))
            height, width = new_h, new_w
            layers[f"conv{i}"] = nn.Conv2d(in_ch, out_ch, k, stride=s, padding=p)
            if batch_norm:
                layers[f"bn{i}"] = nn.BatchNorm2d(out_ch)
            layers[f"{activation}{i}"] = activation_module(activation)
            if pool is not None:
                new_h = conv_output_size(height, pool_size, pool_size)
                new_w = conv_output_size(width, pool_size, pool_size)
                if min(new_h, new_w) < 1:
                    small = height if new_h < 1 else width
                    raise ValueError(_fit_message(i, f"{pool}-pooling", small, pool_size,
                                                  pool_size, 0, min(new_h, new_w)))
                height, width = new_h, new_w
                pool_cls = nn.MaxPool2d if pool == "max" else nn.AvgPool2d
                layers[f"pool{i}"] = pool_cls(pool_size)
            if dropout > 0:
                layers[f"drop{i}"] = nn.Dropout2d(dropout)
            in_ch = out_ch
        self.features = nn.Sequential(layers)
        self.feature_shape = (in_ch, height, width)  # what the head receives, before flattening

        head: OrderedDict[str, nn.Module] = OrderedDict(flatten=nn.Flatten())
        width_in = in_ch * height * width
        for j, units in enumerate(hidden, start=1):
            head[f"fc{j}"] = nn.Linear(width_in, units)
            head[f"{activation}_fc{j}"] = activation_module(activation)
            if dropout > 0:
                head[f"drop_fc{j}"] = nn.Dropout(dropout)
            width_in = units
        head["out"] = nn.Linear(width_in, self.n_outputs)
        self.head = nn.Sequential(head)

    def _as_images(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2 and x.shape[1] == self.input_shape[0] * self.input_shape[1] * self.input_shape[2]:
            return x.reshape(x.shape[0], *self.input_shape)
        if x.dim() == 3 and self.input_shape[0] == 1:  # (batch, H, W) grey images
            return x.unsqueeze(1)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(self._as_images(x)))

    def conv_layers(self) -> list[nn.Conv2d]:
        """The Conv2d layers in order."""
        return [m for m in self.features if isinstance(m, nn.Conv2d)]

    def feature_maps(self, x: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
        """(name, output) after every conv, activation and pooling layer, for the batch x.

        Batch norm and dropout outputs are skipped: a learner looks at what each conv detects,
        after its nonlinearity, and after pooling shrinks it. Tensors are detached.
        """
        maps, h = [], self._as_images(x)
        with torch.no_grad():
            for name, layer in self.features.named_children():
                h = layer(h)
                if not isinstance(layer, (nn.BatchNorm2d, nn.Dropout2d)):
                    maps.append((name, h.detach()))
        return maps

    def __repr__(self) -> str:
        return (f"CNN(input_shape={self.input_shape}, channels={self.channels}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"pool={self.pool!r}, batch_norm={self.batch_norm}, dropout={self.dropout}, "
                f"hidden={self.hidden}, n_outputs={self.n_outputs}, activation={self.activation!r})")


def cnn(input_shape: Sequence[int] = (1, 28, 28), n_outputs: int = 10,
        channels: Sequence[int] = (16, 32), kernel_size: int | Sequence[int] = 3,
        stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 1,
        pool: str | None = "max", pool_size: int = 2, batch_norm: bool = False,
        dropout: float = 0.0, hidden: Sequence[int] = (64,), activation: str = "relu") -> CNN:
    """Build a CNN: one conv block per entry of ``channels``, then ``hidden`` dense layers.

    ``kernel_size``, ``stride`` and ``padding`` take one int for every block or one per block.
    Raises ValueError naming the block whose output would be smaller than 1x1.
    """
    return CNN(input_shape, n_outputs, channels=channels, kernel_size=kernel_size, stride=stride,
               padding=padding, pool=pool, pool_size=pool_size, batch_norm=batch_norm,
               dropout=dropout, hidden=hidden, activation=activation)
