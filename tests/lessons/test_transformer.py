"""The Transformer lesson's engine: the worked attention example against torch, and the numpy
views of an encoder (attention maps, positions, embeddings, accuracies)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnplay import data
from nnplay.lessons import transformer as tl
from nnplay.models import build_model
from nnplay.models.transformer import sinusoidal_positions


def test_worked_example_matches_torch_attention():
    ex = tl.attention_example(["the", "cat", "sat"], d_model=4, d_k=3, seed=1)
    assert ex["Q"].shape == (3, 3) and ex["X"].shape == (3, 4)
    np.testing.assert_allclose(ex["Q"], ex["X"] @ ex["W_q"])
    # inputs and weights have one decimal so a learner can redo the arithmetic
    np.testing.assert_allclose(ex["X"], np.round(ex["X"], 1))
    np.testing.assert_allclose(ex["weights"].sum(1), 1.0)
    expected = F.scaled_dot_product_attention(*(torch.as_tensor(ex[m]) for m in "QKV"))
    np.testing.assert_allclose(ex["output"], expected.numpy(), atol=1e-12)
    lines = tl.query_row_latex(ex, 1)
    assert len(lines) == 3
    assert f"{ex['weights'][1, 0]:.2f}" in lines[1] and f"{ex['output'][1, 0]:.2f}" in lines[2]


def test_tokens_are_checked():
    assert tl.parse_tokens("  a  b c ") == ["a", "b", "c"]
    for text in ("one", "a b c d e f g h i"):
        with pytest.raises(ValueError, match="2 to 8 words"):
            tl.parse_tokens(text)
    with pytest.raises(ValueError, match="d_model"):
        tl.attention_example(["a", "b"], d_model=0)


@pytest.fixture(scope="module")
def encoder():
    ds = data.load("reverse_sequence", n=60, seq_len=5, vocab_size=6)
    torch.manual_seed(0)
    return build_model(tl.encoder_spec(d_model=8, n_heads=2, n_layers=2), ds), ds


def test_attention_maps_per_layer_and_head(encoder):
    model, ds = encoder
    maps = tl.attention_maps(model, ds.X_test[0])
    assert len(maps) == 2 and maps[0].shape == (2, 5, 5)
    np.testing.assert_allclose(maps[1].sum(-1), 1.0, atol=1e-5)
    assert model.training  # the mode is put back


def test_positions_embeddings_summary_and_accuracy(encoder):
    model, ds = encoder
    np.testing.assert_allclose(tl.position_table(model, 5), sinusoidal_positions(5, 8).numpy())
    no_positions = build_model(tl.encoder_spec(8, 2, 1, positional="none"), ds)
    assert tl.position_table(no_positions, 5) is None
    learned = build_model(tl.encoder_spec(8, 2, 1, positional="learned"), ds)
    assert tl.position_table(learned, 5).shape == (5, 8)
    assert tl.embedding_points(model).shape == (6, 2)
    table = tl.encoder_summary(model, 5)
    assert table.attrs["total_params"] == sum(p.numel() for p in model.parameters())
    scores = tl.sequence_accuracy(model, ds)
    predicted = model(torch.as_tensor(ds.X_test)).argmax(-1).numpy()
    assert scores["token_accuracy"] == pytest.approx((predicted == ds.y_test).mean())
    assert 0 <= scores["sequence_accuracy"] <= scores["token_accuracy"]
