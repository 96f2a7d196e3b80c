"""The "text" family: all-MiniLM-L6-v2 with a head, frozen or partly trainable, reading padded
ids; its attention maps and attributions add up; it saves and reloads with the same outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnplay import data
from nnplay.data import text as text_data  # noqa: F401  (registers the review datasets)
from nnplay.data.ref import DatasetRef
from nnplay.models import ModelSpec, modelio
from nnplay.models import text as mt
from nnplay.train.record import ModelRecord
from nnplay.train.workspace import Workspace, model_bytes, weight_memory


@pytest.fixture(scope="module")
def reviews():
    return data.load("rotten_tomatoes", n=40, max_len=24, seed=0)


@pytest.fixture(scope="module")
def model(reviews):
    torch.manual_seed(0)
    return ModelSpec("text", {"mode": "finetune", "train_layers": 2}).build(reviews).eval()


def test_only_the_head_and_the_last_layers_learn(model, reviews):
    trainable = {n.split(".")[3] if n.startswith("encoder.encoder.layer") else n.split(".")[0]
                 for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"4", "5", "head"}
    frozen = ModelSpec("text", {"mode": "frozen"}).build(reviews)
    assert [n for n, p in frozen.named_parameters() if p.requires_grad] == ["head.weight",
                                                                           "head.bias"]
    everything = ModelSpec("text", {"train_layers": 6}).build(reviews)
    assert everything.n_trainable() == sum(p.numel() for p in everything.parameters()) - \
        sum(p.numel() for p in everything.encoder.pooler.parameters())
    model.train()
    assert not model.layers[0].training and model.layers[5].training and model.head.training
    model.eval()


def test_padding_changes_nothing_and_chunks_equal_one_pass(model, reviews):
    ids = torch.as_tensor(reviews.X_test[:4])
    wider = torch.cat([ids, torch.zeros(4, 10, dtype=torch.long)], dim=1)
    with torch.no_grad():
        assert torch.allclose(model(ids), model(wider), atol=1e-5)
        rows = torch.as_tensor(np.tile(reviews.X_train, (3, 1)))[:mt.EVAL_CHUNK + 6]
        chunked = model(rows)
        one_by_one = torch.cat([model(r[None]) for r in rows[:8]])
    assert chunked.shape == (mt.EVAL_CHUNK + 6, 2)
    assert torch.allclose(chunked[:8], one_by_one, atol=1e-4)


def test_attention_maps_are_per_layer_and_head_with_rows_summing_to_one(model, reviews):
    n_tokens = int((reviews.X_test[0] != 0).sum())
    maps = model.attention_maps(reviews.X_test[0])
    assert len(maps) == 6 and maps[0].shape == (12, n_tokens, n_tokens)
    assert torch.allclose(maps[3].sum(-1), torch.ones(12, n_tokens), atol=1e-5)
    rollout = mt.attention_rollout(maps)
    assert rollout.shape == (n_tokens,) and (rollout >= 0).all()
    assert float(rollout.sum()) == pytest.approx(1.0, abs=1e-5)


def test_integrated_gradients_add_up_to_the_change_in_the_score(model, reviews):
    ids = reviews.X_test[1]
    n_tokens = int((ids != 0).sum())
    out = mt.token_attributions(model, ids, n_steps=64)
    assert out["attributions"].shape == (n_tokens,)
    with torch.no_grad():
        predicted = int(model(torch.as_tensor(ids[None])).argmax())
    assert out["target"] == predicted
    change = out["score"] - out["baseline_score"]
    assert float(out["attributions"].sum()) == pytest.approx(change, abs=0.02 * abs(change) + 1e-3)
    assert out["delta"] < 0.02 * abs(change) + 1e-3
    with pytest.raises(ValueError, match="target"):
        mt.token_attributions(model, ids, target=5)


def test_saves_and_reloads_with_identical_predictions(model, reviews, tmp_path):
    spec = ModelSpec("text", {"mode": "finetune", "train_layers": 2})
    with torch.no_grad():
        model.head.weight.add_(0.5)   # not the fresh head a rebuild would make
    record = ModelRecord("minilm", spec, DatasetRef.of(reviews), "lab_sentiment")
    modelio.save_dir(tmp_path / "saved", model, record, reviews)
    loaded = modelio.load_dir(tmp_path / "saved")
    assert isinstance(loaded.model, mt.TextClassifier) and loaded.record.lesson == "lab_sentiment"
    X = torch.as_tensor(reviews.X_test)
    with torch.no_grad():
        assert torch.equal(loaded.model(X), model(X))
    assert np.array_equal(loaded.dataset.X_test, reviews.X_test)


def test_frozen_weights_are_shared_between_models_and_nothing_writes_into_them(reviews):
    published = {k: v.clone() for k, v in mt._pristine(mt.DEFAULT_BASE).state_dict().items()}
    a, b = (ModelSpec("text", {"mode": "frozen"}).build(reviews) for _ in range(2))
    tuned = ModelSpec("text", {"mode": "finetune", "train_layers": 2}).build(reviews)
    one = sum(weight_memory(a).values())
    both = sum(weight_memory(a, b, tuned).values())
    assert one < both < 1.4 * one                    # two layers and the heads come on top
    wa, wb = a.word_embeddings.weight, b.word_embeddings.weight
    assert wa is not wb and wa.data_ptr() == wb.data_ptr()
    layer = tuned.layers[5].output.dense.weight
    assert layer.data_ptr() != a.layers[5].output.dense.weight.data_ptr()
    # fine-tuning writes into the tuned model's own layers only
    optimizer = torch.optim.SGD([p for p in tuned.parameters() if p.requires_grad], lr=1.0)
    tuned.train()
    tuned(torch.as_tensor(reviews.X_train[:8])).logsumexp(1).sum().backward()
    optimizer.step()
    tuned.eval()
    assert not torch.equal(layer, a.layers[5].output.dense.weight)
    # loading changed frozen weights lands in the model's own copy, not in the shared memory
    state = {k: v.clone() for k, v in b.state_dict().items()}
    state["encoder.embeddings.word_embeddings.weight"] += 1.0
    b.load_state_dict(state)
    assert b.word_embeddings.weight.data_ptr() != wa.data_ptr()
    assert torch.equal(b.word_embeddings.weight, published["embeddings.word_embeddings.weight"]
                       + 1.0)
    now = mt._pristine(mt.DEFAULT_BASE).state_dict()
    assert all(torch.equal(now[k], v) for k, v in published.items())
    assert torch.equal(a.word_embeddings.weight, published["embeddings.word_embeddings.weight"])
    b.load_state_dict(a.state_dict())                # the published weights: shared again
    assert b.word_embeddings.weight.data_ptr() == wa.data_ptr()


def test_a_workspace_counts_shared_weights_once(reviews):
    models = [ModelSpec("text", {"mode": "frozen"}).build(reviews) for _ in range(3)]
    ws = Workspace(budget_bytes=int(1.2 * model_bytes(models[0])))
    for k, net in enumerate(models):
        ws.register(net, reviews, ModelSpec("text", {"mode": "frozen"}), "lab_sentiment",
                    name=f"frozen {k}")
    assert len(ws) == 3 and ws.last_dropped == []
    assert ws.total_bytes < 1.2 * model_bytes(models[0])
    private = ModelSpec("text", {"mode": "finetune", "train_layers": 6}).build(reviews)
    ws.register(private, reviews, ModelSpec("text", {"train_layers": 6}), "lab_sentiment")
    assert ws.last_dropped == ["frozen 0", "frozen 1", "frozen 2"]   # a whole copy: no room


def test_wrong_data_and_settings_are_messages(reviews):
    with pytest.raises(ValueError, match="token ids"):
        ModelSpec("text", {}).build(data.load("iris"))
    with pytest.raises(ValueError, match="train_layers"):
        ModelSpec("text", {"train_layers": 7}).build(reviews)
    with pytest.raises(ValueError, match="mode"):
        ModelSpec("text", {"mode": "thaw"}).build(reviews)
    with pytest.raises(ValueError, match="tokenized for"):
        ModelSpec("text", {"base": "distilbert-base-uncased"}).build(reviews)
    with pytest.raises(ValueError, match="token ids"):
        mt.text_classifier(2)(torch.rand(2, 5))


@pytest.mark.slow
def test_torch_export_traces_the_model_with_the_same_outputs(model, reviews):
    ids = torch.as_tensor(reviews.X_test[:3])
    program = torch.export.export(model, (ids,))
    with torch.no_grad():
        assert torch.allclose(program.module()(ids), model(ids), atol=1e-5)
