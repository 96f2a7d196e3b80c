"""Transformer builder: shapes, hand-counted parameters, attention maps (rows sum to 1, equal to
attention computed by hand), what positions change, and attention steps against torch's SDPA."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnplay.models.transformer import (
    scaled_dot_product_attention_steps,
    sinusoidal_positions,
    transformer,
)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Small models run fastest on one thread, above all on a machine shared with other jobs."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tokens(batch=3, steps=6, vocab=7, seed=0):
    return torch.randint(0, vocab, (batch, steps), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("pooling, shape", [("mean", (3, 4)), ("cls", (3, 4)),
                                            ("none", (3, 6, 4))])
@pytest.mark.parametrize("positional", ["sinusoidal", "learned", "none"])
def test_token_model_output_shapes(pooling, shape, positional):
    net = transformer(4, vocab_size=7, pooling=pooling, positional=positional, max_len=16)
    assert net(tokens()).shape == shape


def test_float_inputs_are_projected():
    net = transformer(2, n_features=3, d_model=8, n_heads=4, n_layers=1)
    assert net(torch.randn(5, 9, 3)).shape == (5, 2)
    one_feature = transformer(1, n_features=1, d_model=8, n_heads=2)
    assert one_feature(torch.randn(5, 9)).shape == (5, 1)


def test_parameter_count_matches_hand_count():
    d, ff, vocab, max_len, outputs = 4, 8, 5, 6, 3
    layer = (2 * d                                   # norm1
             + 3 * d * d + 3 * d + d * d + d         # attention: in_proj and out_proj
             + 2 * d                                 # norm2
             + d * ff + ff + ff * d + d)             # feed-forward
    expected = vocab * d + max_len * d + layer + 2 * d + d * outputs + outputs
    net = transformer(outputs, vocab_size=vocab, d_model=d, n_heads=2, n_layers=1,
                      dim_feedforward=ff, positional="learned", max_len=max_len)
    assert sum(p.numel() for p in net.parameters()) == expected == 239
    with_cls = transformer(outputs, vocab_size=vocab, d_model=d, n_heads=2, n_layers=1,
                           dim_feedforward=ff, positional="learned", max_len=max_len,
                           pooling="cls")
    assert sum(p.numel() for p in with_cls.parameters()) == expected + d + d  # token, position


@pytest.mark.parametrize("pooling, steps", [("mean", 6), ("cls", 7)])
def test_attention_maps_per_layer_and_head_with_rows_summing_to_one(pooling, steps):
    torch.manual_seed(0)
    net = transformer(2, vocab_size=7, n_heads=4, n_layers=3, pooling=pooling)
    maps = net.attention_maps(tokens())
    assert len(maps) == 3
    for weights in maps:
        assert weights.shape == (3, 4, steps, steps)
        assert torch.allclose(weights.sum(-1), torch.ones(3, 4, steps), atol=1e-5)
        assert weights.min() >= 0


def test_attention_map_equals_attention_computed_by_hand():
    torch.manual_seed(0)
    net = transformer(2, vocab_size=7, d_model=8, n_heads=2, n_layers=1)
    x = tokens()
    layer = net.layers[0]
    h = layer.norm1(net._embed(x))
    q, k, v = F.linear(h, layer.attn.in_proj_weight, layer.attn.in_proj_bias).chunk(3, dim=-1)
    split = lambda t: t.reshape(3, 6, 2, 4).transpose(1, 2)  # noqa: E731  (batch, heads, T, 4)
    steps = scaled_dot_product_attention_steps(split(q), split(k), split(v))
    assert torch.allclose(net.attention_maps(x)[0], steps["weights"], atol=1e-6)


def test_without_positions_the_encoder_cannot_tell_order():
    torch.manual_seed(0)
    x = tokens(batch=2, steps=5)
    swap = torch.tensor([4, 3, 2, 1, 0])
    for positional, order_blind in (("none", True), ("sinusoidal", False), ("learned", False)):
        net = transformer(3, vocab_size=7, pooling="none", positional=positional).eval()
        with torch.no_grad():
            same = torch.allclose(net(x[:, swap]), net(x)[:, swap], atol=1e-5)
        assert same == order_blind, positional


def test_sinusoidal_table_follows_the_formula():
    table = sinusoidal_positions(10, 6)
    pos, i = 7, 2  # dimension pair 2 -> columns 4 (sin) and 5 (cos)
    angle = pos / 10000 ** (2 * i / 6)
    assert table[pos, 4].item() == pytest.approx(math.sin(angle), abs=1e-6)
    assert table[pos, 5].item() == pytest.approx(math.cos(angle), abs=1e-6)
    assert sinusoidal_positions(4, 5).shape == (4, 5)  # odd widths work


@pytest.mark.parametrize("kwargs, message", [
    (dict(vocab_size=7, d_model=10, n_heads=3), "divisible"),
    (dict(vocab_size=7, n_features=3), "exactly one"),
    (dict(), "exactly one"),
    (dict(vocab_size=7, positional="rotary"), "positional"),
    (dict(vocab_size=7, pooling="max"), "pooling"),
])
def test_invalid_settings_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        transformer(2, **kwargs)


def test_wrong_inputs_raise_value_error():
    net = transformer(2, vocab_size=7, max_len=4)
    with pytest.raises(ValueError, match="max_len"):
        net(tokens(steps=6))
    with pytest.raises(ValueError, match="token ids"):
        net(torch.randn(2, 3))


@pytest.mark.parametrize("use_mask", [False, True])
def test_attention_steps_equal_torch_sdpa(use_mask):
    gen = torch.Generator().manual_seed(0)
    Q, K, V = (torch.randn(2, 3, 5, 4, generator=gen) for _ in range(3))
    mask = torch.tril(torch.ones(5, 5, dtype=torch.bool)) if use_mask else None
    steps = scaled_dot_product_attention_steps(Q, K, V, mask=mask)
    expected = F.scaled_dot_product_attention(Q, K, V, attn_mask=mask)
    assert torch.allclose(steps["output"], expected, atol=1e-6)
    assert torch.allclose(steps["scores"], Q @ K.transpose(-2, -1), atol=1e-6)
    assert torch.allclose(steps["scaled"][..., 0, 0], steps["scores"][..., 0, 0] / 2.0)
    assert torch.allclose(steps["weights"].sum(-1), torch.ones(2, 3, 5), atol=1e-6)
    if use_mask:
        assert steps["weights"][..., 0, 1:].abs().max() == 0  # the first query sees one key


def test_attention_steps_take_plain_lists_and_return_numpy():
    Q = [[1.0, 0.0], [0.0, 1.0]]
    K = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    V = [[1.0], [2.0], [3.0]]
    steps = scaled_dot_product_attention_steps(Q, K, V)
    assert isinstance(steps["weights"], np.ndarray)
    scaled = np.array([[1, 0, 1], [0, 1, 1]]) / np.sqrt(2)
    weights = np.exp(scaled) / np.exp(scaled).sum(1, keepdims=True)
    np.testing.assert_allclose(steps["weights"], weights, atol=1e-12)
    np.testing.assert_allclose(steps["output"], weights @ np.array(V), atol=1e-12)
    with pytest.raises(ValueError, match="d_k"):
        scaled_dot_product_attention_steps(Q, [[1.0, 0.0, 0.0]], V)
