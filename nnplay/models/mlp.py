"""Multi-layer perceptrons: the fully connected network every lesson starts from."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nnplay.models.activations import activation_module, check_activation

INITS = ("default", "xavier", "kaiming", "small", "large")


class MLP(nn.Module):
    """A stack of Linear -> activation (-> Dropout) blocks and a linear output layer.

    ``layers`` is an nn.Sequential so hooks and per-layer inspection see every block;
    ``hidden_layers()`` returns the Linear layers in order (the last one is the output layer).
    """

    def __init__(self, n_inputs: int, hidden: Sequence[int], n_outputs: int,
                 activation: str | Sequence[str] = "relu", dropout: float = 0.0,
                 init: str = "default"):
        super().__init__()
        hidden = [int(h) for h in hidden]
        if n_inputs < 1 or n_outputs < 1:
            raise ValueError("n_inputs and n_outputs must be at least 1.")
        if any(h < 1 for h in hidden):
            raise ValueError(f"Every hidden layer needs at least one neuron, got {hidden}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
        if isinstance(activation, str):
            acts = [check_activation(activation)] * len(hidden)
        else:
            acts = [check_activation(a) for a in activation]
            if len(acts) != len(hidden):
                raise ValueError(f"Got {len(acts)} activations for {len(hidden)} hidden layers.")
        if init not in INITS:
            raise ValueError(f"Unknown init {init!r}; choose one of {', '.join(INITS)}.")
        self.n_inputs, self.hidden, self.n_outputs = int(n_inputs), hidden, int(n_outputs)
        self.activations, self.dropout, self.init = acts, float(dropout), init
        blocks: list[nn.Module] = [nn.Flatten()]
        width = self.n_inputs
        for h, act in zip(hidden, acts):
            blocks += [nn.Linear(width, h), activation_module(act)]
            if dropout > 0:
                blocks.append(nn.Dropout(dropout))
            width = h
        blocks.append(nn.Linear(width, self.n_outputs))
        self.layers = nn.Sequential(*blocks)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise the weights with the chosen scheme (biases start at zero except 'default')."""
        acts = self.activations + ["linear"]
        for lin, act in zip(self.linear_layers(), acts):
            if self.init == "default":
                lin.reset_parameters()
                continue
            nn.init.zeros_(lin.bias)
            if self.init == "xavier":
                # torch has no gain for GELU; it behaves like ReLU for the variance it keeps
                gain_name = {"gelu": "relu"}.get(act, act)
                gain = nn.init.calculate_gain(gain_name if gain_name in ("tanh", "sigmoid", "relu", "leaky_relu") else "linear")
                nn.init.xavier_uniform_(lin.weight, gain=gain)
            elif self.init == "kaiming":
                nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            elif self.init == "small":
                nn.init.normal_(lin.weight, std=0.01)
            elif self.init == "large":
                nn.init.normal_(lin.weight, std=1.0)

    def linear_layers(self) -> list[nn.Linear]:
        """The Linear layers in order; the last one is the output layer."""
        return [m for m in self.layers if isinstance(m, nn.Linear)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)

    def hidden_activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each hidden layer's output (after its activation) for the batch x."""
        outs, h = [], x
        for m in self.layers:
            h = m(h)
            if not isinstance(m, (nn.Linear, nn.Flatten, nn.Dropout)):
                outs.append(h)
        return outs

    def __repr__(self) -> str:
        sizes = "-".join(str(s) for s in [self.n_inputs, *self.hidden, self.n_outputs])
        return f"MLP({sizes}, activation={self.activations}, dropout={self.dropout}, init={self.init!r})"


def mlp(n_inputs: int, hidden: Sequence[int] = (16, 16), n_outputs: int = 2,
        activation: str | Sequence[str] = "relu", dropout: float = 0.0,
        init: str = "default") -> MLP:
    """Build an MLP: ``n_inputs -> hidden... -> n_outputs`` with one activation or one per layer."""
    return MLP(n_inputs, hidden, n_outputs, activation=activation, dropout=dropout, init=init)


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters in a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
