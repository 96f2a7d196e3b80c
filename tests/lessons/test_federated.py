"""The federated lesson's engine: the splits, the bytes formula, FedAvg's averaging checked
against full-batch gradient descent, the page's claim (IID beats non-IID at equal rounds, over
seeds), central training per round, stopping, and the sentences built from the numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch.nn import functional as F  # noqa: N812

from nnplay.lessons import federated as fed
from nnplay.train.jobs import Cancelled


@pytest.fixture(scope="module")
def digits():
    return fed.load_data("digits")


def test_partitions_cover_every_row_once_and_shards_hold_few_digits(digits):
    y = digits.y_train
    for split in fed.SPLITS:
        parts = fed.partition(y, 10, split, seed=3)
        everything = np.concatenate(parts)
        assert len(parts) == 10 and sorted(everything.tolist()) == list(range(len(y)))
    iid = fed.class_counts(y, fed.partition(y, 10, "iid"), 10)
    shards = fed.class_counts(y, fed.partition(y, 10, "shards"), 10)
    assert (iid > 0).sum(axis=1).min() == 10
    assert np.median((shards > 0).sum(axis=1)) <= 3 and (shards > 0).sum(axis=1).max() <= 4
    assert iid.sum() == shards.sum() == len(y)
    assert [p.tolist() for p in fed.partition(y, 10, "shards", 3)] == \
        [p.tolist() for p in fed.partition(y, 10, "shards", 3)]
    with pytest.raises(ValueError, match="at most 2 clients"):
        fed.partition(np.arange(5), 3, "shards")


def test_bytes_per_round_is_parameters_times_4_times_clients_times_2():
    assert fed.bytes_per_round(4_810, 5) == 4_810 * 4 * 5 * 2
    assert fed.human_bytes(192_400) == "192.4 kB" and fed.human_bytes(999) == "999 bytes"
    cfg = fed.FedConfig(clients=10, fraction=0.5, rounds=30)
    sentence = fed.traffic_sentence(cfg, 4_810)
    assert "4,810 parameters × 4 bytes × 5 clients × 2 directions = 192.4 kB" in sentence
    assert "30 rounds move 5.8 MB" in sentence


def test_one_round_of_full_batch_fedavg_is_one_step_of_gradient_descent(digits):
    """E = 1 and a batch as large as any client: each client takes one gradient step from the
    same weights, and the row-weighted average of those is one step on all the rows."""
    cfg = fed.FedConfig(clients=4, fraction=1.0, rounds=1, local_epochs=1, batch_size=1000,
                        lr=0.5, hidden=8)
    run = fed.FedAvg(cfg).fit(digits)
    model = fed.build_model(digits, 8, 0)
    X, y = torch.as_tensor(digits.X_train), torch.as_tensor(digits.y_train)
    grads = torch.autograd.grad(F.cross_entropy(model(X), y), list(model.parameters()))
    with torch.no_grad():
        for p, g in zip(model.parameters(), grads):
            p.sub_(0.5 * g)
    for ours, expected in zip(run.model_.parameters(), model.parameters()):
        torch.testing.assert_close(ours, expected, atol=1e-5, rtol=1e-4)


def test_fedavg_on_iid_data_beats_non_iid_at_equal_rounds(digits):
    for seed in (0, 1):
        iid = fed.fedavg(digits, clients=10, split="iid", rounds=8, seed=seed)
        shards = fed.fedavg(digits, clients=10, split="shards", rounds=8, seed=seed)
        assert iid["round"].tolist() == shards["round"].tolist() == list(range(1, 9))
        assert iid["accuracy"].iloc[-1] > shards["accuracy"].iloc[-1] + 0.1
        assert (iid["accuracy"].iloc[2:] > shards["accuracy"].iloc[2:]).all()
        assert iid["accuracy"].iloc[-1] > 0.8


def test_history_counts_clients_and_bytes(digits):
    history = fed.fedavg(digits, clients=6, split="shards", rounds=3, fraction=0.34,
                         local_epochs=2)
    assert list(history.columns) == fed.HISTORY_COLUMNS
    assert history["clients"].tolist() == [2, 2, 2]
    per_round = history["bytes_round"].iloc[0]
    assert per_round == (64 * 64 + 64 + 64 * 10 + 10) * 4 * 2 * 2
    assert history["bytes_total"].tolist() == [per_round, 2 * per_round, 3 * per_round]
    assert history[["accuracy", "loss"]].notna().all().all()


def test_a_stop_keeps_the_rounds_done(digits):
    done = []
    with pytest.raises(Cancelled) as stop:
        fed.fedavg(digits, rounds=10, progress=lambda r, total: done.append(r),
                   should_stop=lambda: len(done) >= 2)
    assert stop.value.result["round"].tolist() == [1, 2] and done == [1, 2]
    with pytest.raises(Cancelled) as stop:
        fed.compare_splits(fed.FedConfig(rounds=3), digits,
                           should_stop=lambda: len(done) >= 4,
                           progress=lambda d, t: done.append(d))
    partial = stop.value.result
    assert not partial.complete and set(partial.history["setting"]) == {"iid"}


def test_comparison_runs_three_settings_and_says_what_it_measured(digits):
    steps = []
    result = fed.compare_splits(fed.FedConfig(rounds=4, local_epochs=2), digits,
                                progress=lambda d, t: steps.append((d, t)))
    assert result.complete and steps[-1] == (16, 16)
    counts = result.history.groupby("setting")["round"].apply(list).to_dict()
    assert counts == {"central": [1, 2, 3, 4], "iid": [1, 2, 3, 4], "shards": [1, 2, 3, 4]}
    final = result.final()
    sentence = fed.comparison_sentence(result)
    assert sentence.startswith("After 4 rounds: ")
    assert f"FedAvg, IID {final['iid']:.1%}" in sentence
    assert f"central training {final['central']:.1%}" in sentence
    assert result.central.epoch == 8 and result.central.spec["family"] == "mlp"


def test_sentence_when_the_split_made_little_difference():
    history = pd.DataFrame({"round": [1, 1], "setting": ["iid", "shards"],
                            "accuracy": [0.9, 0.895], "loss": [0.1, 0.1]})
    result = fed.Comparison(fed.FedConfig(), history, {})
    assert "made little difference (+0.5 points)" in fed.comparison_sentence(result)


@pytest.mark.parametrize("kwargs, message", [
    ({"clients": 1}, "clients must be between 2 and 100"), ({"fraction": 0.0}, "fraction C"),
    ({"split": "random"}, "'iid' or 'shards'"), ({"dataset": "cifar"}, "digits, mnist5k"),
    ({"lr": float("inf")}, "learning rate"), ({"rounds": 2.5}, "whole number")])
def test_impossible_settings_say_what_to_change(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fed.FedConfig(**kwargs)


def test_the_command_lines_report_is_one_json_object():
    import json

    report = fed.fedavg_report(clients=4, split="shards", rounds=2, fraction=0.5, seed=1)
    again = json.loads(json.dumps(report))
    assert again["split"] == "shards" and again["clients_per_round"] == 2
    assert [r["round"] for r in again["history"]] == [1, 2]
    assert again["final_accuracy"] == again["history"][-1]["accuracy"]
    assert again["bytes_total"] == 2 * again["bytes_per_round"] == 2 * 4_810 * 4 * 2 * 2
    with pytest.raises(ValueError, match="'iid' or 'shards'"):
        fed.fedavg_report(split="noniid")
