"""Why neural networks now: the three experiments train through the Trainer and report their own
numbers; the slow tests check over seeds the claims the page makes (the network gains more from
more data than the linear model; the 2015 recipe beats the 1990s one and batch normalisation
lifts the 1990s one)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from nnplay import data
from nnplay.lessons import why_now
from nnplay.lessons.why_now import RECIPES, DataScaling, HardwareBench, RecipeRace, deep_net
from nnplay.train.jobs import Cancelled

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def mnist():
    return data.load(why_now.DATASET)


@pytest.fixture(scope="module")
def digits():
    return data.load(why_now.DIGITS)


def test_data_scaling_reports_its_own_numbers(mnist):
    exp = DataScaling(sizes=(30, 100), steps=20).fit(mnist)
    table = exp.results_
    assert list(table["model"]) == ["linear", "network"] * 2
    assert list(table["n_train"]) == [30, 30, 100, 100]
    assert table["test_accuracy"].between(0.2, 1.0).all()        # chance is 0.1
    assert (table["epochs"] == [20, 20, 10, 10]).all()          # 20 steps of batches of 64
    gains = exp.gains()
    curve = exp.curve()
    assert gains["linear"] == pytest.approx(curve.loc["linear", 100] - curve.loc["linear", 30])
    text = exp.verdict()
    assert f"linear model gained {100 * gains['linear']:.1f} points" in text
    assert f"the network {100 * gains['network']:.1f}" in text


def test_data_scaling_says_what_to_change(mnist):
    with pytest.raises(ValueError, match="at least two"):
        DataScaling(sizes=(100,)).check(mnist)
    with pytest.raises(ValueError, match="between 10"):
        DataScaling(sizes=(100, 5000)).check(mnist)
    with pytest.raises(ValueError, match="steps"):
        DataScaling(sizes=(100, 200), steps=5).check(mnist)


def test_a_stop_keeps_the_finished_rows(mnist):
    exp = DataScaling(sizes=(30, 100), steps=20)
    with pytest.raises(Cancelled) as stopped:     # Stop pressed once the first model is done
        exp.fit(mnist, should_stop=lambda: len(getattr(exp, "results_", ())) >= 1)
    partial = stopped.value.result
    assert partial is exp and len(partial.results_) == 1 and partial.gains() is None
    assert "did not finish" in partial.verdict()


@pytest.mark.slow
def test_the_network_gains_more_from_more_data_on_every_seed(mnist):
    """The page's claim, on the two ends of its default curve, for three seeds."""
    for seed in SEEDS:
        exp = DataScaling(sizes=(300, 3750), seeds=(seed,)).fit(mnist)
        gains, curve = exp.gains(), exp.curve()
        assert gains["network"] > gains["linear"] + 0.005, (seed, gains)
        assert curve.loc["network", 3750] > curve.loc["linear", 3750] + 0.02, seed
        assert "keeps turning data into accuracy" in exp.verdict()


def test_hardware_bench_measures_each_setting(mnist):
    bench = HardwareBench(size=128, rows=128).fit(mnist)
    table = bench.results_
    assert len(table) == len(bench.settings()) >= 1
    assert table.iloc[0]["setting"] == "1 CPU thread"
    assert (table["matmul_gflops"] > 0).all() and (table["train_examples_per_s"] > 0).all()
    assert bench.machine_["cores"] >= 1 and bench.caveats()
    if len(table) > 1:
        ratio = table.iloc[1]["matmul_gflops"] / table.iloc[0]["matmul_gflops"]
        assert f"{ratio:.2g}x as fast as one CPU thread" in bench.verdict()
    with pytest.raises(ValueError, match="Matrix size"):
        HardwareBench(size=10).fit(mnist)


def test_matmul_speed_is_flops_over_time():
    gflops = why_now.matmul_gflops(256, min_seconds=0.05)
    assert 0.01 < gflops < 1e6


def test_deep_net_follows_the_recipe():
    old, new = RECIPES
    naive = deep_net(64, 10, old, depth=4, width=256)
    linears = [m for m in naive if isinstance(m, nn.Linear)]
    assert len(linears) == 5 and isinstance(naive[2], nn.Sigmoid)
    assert linears[1].weight.std().item() == pytest.approx(1.0, rel=0.05)
    kaiming = deep_net(64, 10, new, depth=4, width=256, batch_norm=True)
    assert linears[1].bias.abs().sum() == 0
    hidden = [m for m in kaiming if isinstance(m, nn.Linear)][1]
    assert hidden.weight.std().item() == pytest.approx(math.sqrt(2 / 256), rel=0.05)
    assert sum(isinstance(m, nn.BatchNorm1d) for m in kaiming) == 4
    assert kaiming(torch.zeros(3, 1, 8, 8)).shape == (3, 10)


def test_recipe_race_trains_four_variants_on_the_same_data(digits):
    race = RecipeRace(depth=3, epochs=2).fit(digits)
    assert list(race.histories_) == [why_now.variant_name(r, bn) for r in RECIPES
                                     for bn in (False, True)]
    for history in race.histories_.values():
        assert [h["epoch"] for h in history] == [0, 1, 2]
    table = race.results_.set_index("variant")
    assert (table["status"] == "completed").all()
    assert table["final_accuracy"].between(0.0, 1.0).all()
    assert f"{race.final(RECIPES[1], False):.1%}" in race.verdict()
    with pytest.raises(ValueError, match="layers"):
        RecipeRace(depth=50).check()
    with pytest.raises(ValueError, match="epochs"):
        RecipeRace(epochs=0).check()


@pytest.mark.slow
def test_modern_recipe_wins_and_batchnorm_lifts_the_old_one_on_every_seed(digits):
    """The page's default race (10 layers, 20 epochs), for three seeds."""
    old, new = RECIPES
    for seed in SEEDS:
        race = RecipeRace(seed=seed).fit(digits)
        assert race.final(new, False) > race.final(old, False) + 0.3, seed
        assert race.final(old, True) > race.final(old, False) + 0.2, seed
        assert "rescues the saturated sigmoids" in race.verdict()


def test_caveats_come_from_the_measured_machine():
    import pandas as pd

    bench = HardwareBench()
    bench.machine_ = {"cores": 2, "load_average": 14.0, "devices": ["1 CPU thread",
                                                                    "all 2 CPU threads"]}
    bench.results_ = pd.DataFrame([
        {"setting": "1 CPU thread", "device": "cpu", "threads": 1, "matmul_gflops": 40.0,
         "train_examples_per_s": 11_000.0},
        {"setting": "all 2 CPU threads", "device": "cpu", "threads": 2, "matmul_gflops": 44.0,
         "train_examples_per_s": 1_000.0}])
    notes = " ".join(bench.caveats())
    assert "load average 14.0 on 2 cores" in notes and "No GPU here" in notes
    assert "slower than on one" in notes
    assert bench.verdict().startswith("All 2 CPU threads multiplied matrices 1.1x as fast as "
                                      "one CPU thread (44.0 against 40.0 GFLOP/s)")
    assert "trained the network at 0.091x its speed (1,000 against 11,000" in bench.verdict()


# ---- bench/gpu_check.py: the GPU side of the hardware story --------------------------------------
GPU_CHECK = [sys.executable, str(Path(__file__).resolve().parents[2] / "bench" / "gpu_check.py")]


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA machine runs the real check")
def test_gpu_check_skips_cleanly_without_cuda():
    out = subprocess.run(GPU_CHECK, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "no CUDA device: skipped"


@pytest.mark.slow
def test_gpu_check_logic_on_the_cpu_against_itself():
    out = subprocess.run([*GPU_CHECK, "--against", "cpu", "--families", "mlp,lstm",
                          "--epochs", "1"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert sum(line.endswith("  ok") for line in lines) == 2
    assert "100.0% same class" in out.stdout and lines[-1].startswith("2 of 2 families agree")
