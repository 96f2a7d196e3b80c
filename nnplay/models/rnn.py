"""Recurrent networks (plain RNN, LSTM, GRU) for sequence classification and forecasting, and the
tools a lesson needs to look inside them: hidden states, LSTM/GRU gates, gradients through time.

Input is (batch, T, F). The model reads the whole sequence and maps its final hidden state to
``n_outputs`` values: class logits for classification, the next value(s) for forecasting.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
GATES = {"lstm": ("input", "forget", "cell", "output"), "gru": ("reset", "update", "new")}


class RNN(nn.Module):
    """A recurrent layer stack (``rnn``: nn.RNN, nn.LSTM or nn.GRU) and a linear ``head``.

    The head reads the last layer's final hidden state (both directions when bidirectional).
    ``dropout`` acts between recurrent layers and before the head.
    """

    def __init__(self, n_features: int, n_outputs: int, cell: str = "lstm", hidden_size: int = 32,
                 num_layers: int = 1, bidirectional: bool = False, dropout: float = 0.0,
                 forget_bias: float = 1.0, update_bias: float = 0.0):
        super().__init__()
        cell = str(cell).lower()
        if cell not in CELLS:
            raise ValueError(f"Unknown cell {cell!r}; choose one of {', '.join(CELLS)}.")
        if int(n_features) < 1 or int(n_outputs) < 1:
            raise ValueError("n_features and n_outputs must be at least 1.")
        if int(hidden_size) < 1 or int(num_layers) < 1:
            raise ValueError(f"hidden_size and num_layers must be at least 1, got "
                             f"hidden_size={hidden_size}, num_layers={num_layers}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
        self.n_features, self.n_outputs, self.cell = int(n_features), int(n_outputs), cell
        self.hidden_size, self.num_layers = int(hidden_size), int(num_layers)
        self.bidirectional, self.dropout = bool(bidirectional), float(dropout)
        self.forget_bias, self.update_bias = float(forget_bias), float(update_bias)
        self.num_directions = 2 if bidirectional else 1
        # nn.RNN/LSTM/GRU warn when given dropout with one layer: it only acts between layers.
        self.rnn = CELLS[cell](self.n_features, self.hidden_size, num_layers=self.num_layers,
                               batch_first=True, bidirectional=self.bidirectional,
                               dropout=self.dropout if self.num_layers > 1 else 0.0)
        self.drop = nn.Dropout(self.dropout)
        self.head = nn.Linear(self.hidden_size * self.num_directions, self.n_outputs)
        if cell == "lstm":
            self._set_forget_bias()
        elif cell == "gru" and self.update_bias:
            self._set_update_bias()

    def _set_forget_bias(self) -> None:
        # A positive forget-gate bias keeps the cell's memory from the first step: PyTorch's 0
        # starts f at 0.5, memory that halves every step; 1 (Jozefowicz et al., 2015) gives 0.73.
        # For dependencies T steps long, about log(T) (Tallec & Ollivier's chrono
        # initialisation) lets the gradient reach back from the start. PyTorch splits the bias
        # over b_ih and b_hh, so half goes to each.
        h = self.hidden_size
        with torch.no_grad():
            for name, param in self.rnn.named_parameters():
                if name.startswith("bias_"):
                    param[h:2 * h].fill_(self.forget_bias / 2)

    def _set_update_bias(self) -> None:
        # The GRU's counterpart of the forget bias: h_t = (1 - z) n_t + z h_{t-1}, so a positive
        # bias on the update gate z (PyTorch's chunk order r, z, n) keeps the old state by default.
        h = self.hidden_size
        with torch.no_grad():
            for name, param in self.rnn.named_parameters():
                if name.startswith("bias_"):
                    param[h:2 * h].fill_(self.update_bias / 2)

    def _as_sequences(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2 and self.n_features == 1:  # (batch, T) of single values
            x = x.unsqueeze(-1)
        if x.dim() != 3 or x.shape[-1] != self.n_features:
            raise ValueError(f"Expected input of shape (batch, T, {self.n_features}), "
                             f"got {tuple(x.shape)}.")
        return x

    def _final_state(self, h_n: torch.Tensor) -> torch.Tensor:
        """The last layer's final hidden state, directions side by side: (batch, H * dirs)."""
        last = h_n[-self.num_directions:]  # (dirs, batch, H)
        return torch.cat(list(last), dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, state = self.rnn(self._as_sequences(x))
        h_n = state[0] if self.cell == "lstm" else state
        return self.head(self.drop(self._final_state(h_n)))

    def hidden_states(self, x: torch.Tensor) -> torch.Tensor:
        """The last layer's hidden state at every step: (batch, T, H * directions), detached."""
        with torch.no_grad():
            out, _ = self.rnn(self._as_sequences(x))
        return out

    def gate_activations(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Gates of the first layer (forward direction) at every step, each (batch, T, H).

        Computed by unrolling the layer by hand with its own weights, so a learner sees the
        equations at work. LSTM: ``input``, ``forget``, ``cell`` (the candidate g), ``output``,
        plus ``cell_state`` (c_t) and ``hidden`` (h_t). GRU: ``reset``, ``update``, ``new``, plus
        ``hidden``. A plain RNN has no gates: ValueError.
        """
        if self.cell not in GATES:
            raise ValueError("A plain RNN has no gates; choose cell 'lstm' or 'gru'.")
        x = self._as_sequences(x)
        w_ih, w_hh = self.rnn.weight_ih_l0, self.rnn.weight_hh_l0
        b_ih, b_hh = self.rnn.bias_ih_l0, self.rnn.bias_hh_l0
        batch, steps, _ = x.shape
        h = x.new_zeros(batch, self.hidden_size)
        c = x.new_zeros(batch, self.hidden_size)
        names = (*GATES[self.cell], "hidden") + (("cell_state",) if self.cell == "lstm" else ())
        record: dict[str, list[torch.Tensor]] = {name: [] for name in names}
        with torch.no_grad():
            for t in range(steps):
                from_input = x[:, t] @ w_ih.T + b_ih
                from_hidden = h @ w_hh.T + b_hh
                if self.cell == "lstm":
                    i, f, g, o = (from_input + from_hidden).chunk(4, dim=-1)
                    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
                    c = f * c + i * g
                    h = o * torch.tanh(c)
                    step = {"input": i, "forget": f, "cell": g, "output": o, "cell_state": c}
                else:
                    r_x, z_x, n_x = from_input.chunk(3, dim=-1)
                    r_h, z_h, n_h = from_hidden.chunk(3, dim=-1)
                    r, z = torch.sigmoid(r_x + r_h), torch.sigmoid(z_x + z_h)
                    n = torch.tanh(n_x + r * n_h)
                    h = (1 - z) * n + z * h
                    step = {"reset": r, "update": z, "new": n}
                step["hidden"] = h
                for name, value in step.items():
                    record[name].append(value)
        return {name: torch.stack(values, dim=1) for name, values in record.items()}

    def __repr__(self) -> str:
        return (f"RNN(cell={self.cell!r}, n_features={self.n_features}, "
                f"hidden_size={self.hidden_size}, num_layers={self.num_layers}, "
                f"bidirectional={self.bidirectional}, dropout={self.dropout}, "
                f"forget_bias={self.forget_bias}, update_bias={self.update_bias}, "
                f"n_outputs={self.n_outputs})")


def rnn(n_features: int, n_outputs: int, cell: str = "lstm", hidden_size: int = 32,
        num_layers: int = 1, bidirectional: bool = False, dropout: float = 0.0,
        forget_bias: float = 1.0, update_bias: float = 0.0) -> RNN:
    """Build a recurrent model (cell 'rnn', 'lstm' or 'gru') for (batch, T, n_features) input.

    ``forget_bias`` (LSTM only) is the forget gate's starting bias: 1.0 is the common choice,
    0.0 PyTorch's own; for dependencies T steps long use about log(T), e.g. 3 for T = 50.
    ``update_bias`` (GRU only) does the same for the update gate z; 0.0 is PyTorch's own.
    """
    return RNN(n_features, n_outputs, cell=cell, hidden_size=hidden_size, num_layers=num_layers,
               bidirectional=bidirectional, dropout=dropout, forget_bias=forget_bias,
               update_bias=update_bias)


def sequence_loss(output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy for integer targets (classification), mean squared error otherwise."""
    if not torch.is_floating_point(y):
        return F.cross_entropy(output.reshape(-1, output.shape[-1]), y.reshape(-1))
    return F.mse_loss(output, y.reshape(output.shape).to(output.dtype))


def gradient_through_time(model: RNN, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """||dL/dh_t|| for every step t: how much the loss at the end reaches back to step t.

    The model is stepped one time step at a time with its own recurrent module, keeping each
    step's hidden state h_t (all layers) in the graph; L is the mean loss over the batch
    (cross-entropy for integer y, MSE otherwise). Returns an array of shape (T,). Vanishing
    gradients show as values that shrink towards t = 0.
    """
    if not isinstance(model, RNN):
        raise ValueError("gradient_through_time needs a model built by nnplay.models.rnn.")
    if model.bidirectional:
        raise ValueError("gradient_through_time needs a one-directional model; "
                         "set bidirectional=False.")
    x = model._as_sequences(torch.as_tensor(x))
    y = torch.as_tensor(y)
    state, hiddens = None, []
    with torch.enable_grad():
        for t in range(x.shape[1]):
            _, state = model.rnn(x[:, t:t + 1], state)
            hiddens.append(state[0] if model.cell == "lstm" else state)
        output = model.head(model.drop(model._final_state(hiddens[-1])))
        loss = sequence_loss(output, y)
        grads = torch.autograd.grad(loss, hiddens)
    return np.array([g.norm().item() for g in grads])
