"""Sequence tasks: shapes, targets and seeds of every generator, their registry metadata, and
that each task is learned beyond chance by a tiny model in a plain torch loop; an LSTM remembers
across 50 steps where a plain RNN does not."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnplay.data.sequences import (
    SEQUENCE_DATASETS,
    adding_problem,
    first_token_recall,
    reverse_sequence,
    sine_forecast,
    sort_sequence,
)
from nnplay.models.rnn import rnn
from nnplay.models.transformer import transformer

METADATA_KEYS = {"name", "task", "kind", "n_samples", "n_features", "n_classes", "source",
                 "description"}


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Small models run fastest on one thread, above all on a machine shared with other jobs."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def fit(model, ds, steps, lr=0.01, batch_size=64, seed=0):
    """A plain Adam loop with gradient clipping (standard for recurrent nets); returns the model."""
    X, y = torch.as_tensor(ds.X_train), torch.as_tensor(ds.y_train)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        rows = torch.randint(0, len(X), (batch_size,), generator=gen)
        out = model(X[rows])
        if ds.task == "classification":
            loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y[rows].reshape(-1))
        else:
            loss = F.mse_loss(out.squeeze(-1), y[rows])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return model.eval()


def accuracy_on_test(model, ds):
    with torch.no_grad():
        predicted = model(torch.as_tensor(ds.X_test)).argmax(-1).numpy()
    return float((predicted == ds.y_test).mean())



def mse_on_test(model, ds):
    with torch.no_grad():
        predicted = model(torch.as_tensor(ds.X_test)).squeeze(-1).numpy()
    return float(((predicted - ds.y_test) ** 2).mean())



# ---- generators -----------------------------------------------------------------------------

def test_sine_forecast_windows_and_next_value():
    ds = sine_forecast(n=200, seq_len=20, noise=0.0, seed=1)
    assert ds.task == "regression" and ds.input_shape == (20, 1)
    assert ds.X_train.dtype == np.float32 and ds.y_train.dtype == np.float32
    assert ds.n_train + ds.n_test == 200 and ds.n_test == 50
    # without noise the next value continues the same two sines: a 4-term linear recurrence
    # (each sine obeys s[t+1] = 2 cos(w) s[t] - s[t-1]) predicts it exactly
    w1, w2 = 2 * np.pi / 17.0, 2 * np.pi / 5.3
    poly = np.polymul([1, -2 * np.cos(w1), 1], [1, -2 * np.cos(w2), 1])
    window = ds.X_train[:, -4:, 0].astype(np.float64)
    recurrence = -(poly[1] * window[:, 3] + poly[2] * window[:, 2] + poly[3] * window[:, 1]
                   + poly[4] * window[:, 0])
    np.testing.assert_allclose(recurrence, ds.y_train, atol=1e-4)


def test_adding_problem_target_is_the_sum_of_the_marked_values():
    ds = adding_problem(n=100, seq_len=12, seed=3)
    assert ds.input_shape == (12, 2)
    markers = ds.X_train[:, :, 1]
    assert np.all(markers.sum(1) == 2)
    assert np.all(markers[:, :6].sum(1) == 1)  # one mark in each half
    np.testing.assert_allclose((ds.X_train[:, :, 0] * markers).sum(1), ds.y_train, rtol=1e-6)


def test_first_token_recall_starts_with_the_answer():
    ds = first_token_recall(n=200, seq_len=8, n_tokens=5, seed=2)
    assert ds.task == "classification" and ds.n_classes == 5 and ds.input_shape == (8, 5)
    assert ds.y_train.dtype == np.int64
    np.testing.assert_array_equal(ds.X_train[:, 0].argmax(1), ds.y_train)
    assert np.all(ds.X_train[:, 0].sum(1) == 1)
    assert 0.8 < ds.X_train[:, 1:].std() < 1.2  # distractor noise of scale 1
    assert np.bincount(ds.y_test, minlength=5).min() >= 9  # stratified split: every class


def test_token_tasks_reverse_and_sort():
    rev = reverse_sequence(n=50, seq_len=6, vocab_size=4, seed=0)
    srt = sort_sequence(n=50, seq_len=6, vocab_size=4, seed=0)
    for ds in (rev, srt):
        assert ds.X_train.dtype == np.int64 and ds.y_train.shape == ds.X_train.shape == (37, 6)
        assert ds.n_classes == 4 and ds.X_train.max() < 4
    np.testing.assert_array_equal(rev.y_test, rev.X_test[:, ::-1])
    np.testing.assert_array_equal(srt.y_test, np.sort(srt.X_test, axis=1))


@pytest.mark.parametrize("name", sorted(SEQUENCE_DATASETS))
def test_same_seed_same_data_and_metadata_matches_the_default_dataset(name):
    loader, info = SEQUENCE_DATASETS[name]
    first, again, other = loader(), loader(), loader(seed=1)
    np.testing.assert_array_equal(first.X_train, again.X_train)
    assert not np.array_equal(first.X_train, other.X_train)
    assert set(info) == METADATA_KEYS
    assert info["name"] == first.name == name
    assert info["kind"] == "sequence" and info["source"] == "generated"
    assert info["task"] == first.task and info["n_classes"] == first.n_classes
    assert info["n_samples"] == first.n_train + first.n_test
    assert info["n_features"] == first.n_features


@pytest.mark.parametrize("loader, kwargs, message", [
    (sine_forecast, dict(noise=-1.0), "noise"),
    (adding_problem, dict(seq_len=1), "seq_len"),
    (first_token_recall, dict(n_tokens=1), "n_tokens"),
    (reverse_sequence, dict(vocab_size=1), "vocab_size"),
    (sort_sequence, dict(n=1), "n must"),
    (sine_forecast, dict(test_size=1.5), "test_size"),
])
def test_bad_parameters_raise_value_error(loader, kwargs, message):
    with pytest.raises(ValueError, match=message):
        loader(**kwargs)


# ---- each task is learned -------------------------------------------------------------------

def test_lstm_forecasts_the_sine_mixture():
    ds = sine_forecast(n=600, seq_len=20, noise=0.05, seed=0)
    torch.manual_seed(0)
    net = fit(rnn(1, 1, cell="lstm", hidden_size=16), ds, steps=250)
    assert mse_on_test(net, ds) < 0.15 * ds.y_test.var()


def test_lstm_solves_a_short_adding_problem():
    ds = adding_problem(n=1000, seq_len=10, seed=0)
    torch.manual_seed(0)
    net = fit(rnn(2, 1, cell="lstm", hidden_size=16), ds, steps=300)
    baseline = ((ds.y_test - 1.0) ** 2).mean()  # always answering the expected sum, 1
    assert mse_on_test(net, ds) < 0.25 * baseline


def test_lstm_recalls_the_first_token_over_ten_steps():
    ds = first_token_recall(n=600, seq_len=10, n_tokens=4, seed=0)
    torch.manual_seed(0)
    net = fit(rnn(4, 4, cell="lstm", hidden_size=16), ds, steps=150)
    assert accuracy_on_test(net, ds) > 0.9  # chance is 0.25


def test_lstm_remembers_across_fifty_steps_where_a_plain_rnn_does_not():
    ds = first_token_recall(n=1000, seq_len=50, n_tokens=4, seed=0)
    accuracy = {}
    for cell in ("lstm", "rnn"):
        torch.manual_seed(0)
        # forget bias log(50) ~ 3: the LSTM's memory reaches back 50 steps from the start
        net = rnn(4, 4, cell=cell, hidden_size=32, forget_bias=3.0)
        accuracy[cell] = accuracy_on_test(fit(net, ds, steps=250, batch_size=256), ds)
    assert accuracy["lstm"] > 0.9
    assert accuracy["rnn"] < 0.45  # chance is 0.25


def test_transformer_learns_to_reverse_and_needs_positions_for_it():
    ds = reverse_sequence(n=1000, seq_len=6, vocab_size=8, seed=0)
    accuracy = {}
    for positional in ("sinusoidal", "none"):
        torch.manual_seed(0)
        net = transformer(8, vocab_size=8, d_model=16, n_heads=2, n_layers=2,
                          dim_feedforward=32, positional=positional, pooling="none")
        accuracy[positional] = accuracy_on_test(fit(net, ds, steps=200, lr=0.003), ds)
    assert accuracy["sinusoidal"] > 0.9
    assert accuracy["none"] < 0.5  # without positions it cannot know which token goes where
