"""nnplay.train.green: FLOPs against hand counts, energy from codecarbon's power model (and against
codecarbon's own tracker), CO2 from its offline data, measurement that never breaks or changes
training, and the footprint carried by the run store, the CLI's JSON and the model card."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from nnplay import models, train
from nnplay.train import green, runs
from nnplay.train.green import GreenMeter, PowerModel
from nnplay.train.green import flops as green_flops
from nnplay.train.green import meter as green_meter
from nnplay.train.green import power as green_power

ROOT = Path(__file__).resolve().parents[2]
TDP_MODEL = PowerModel("tdp", cpu_model="Test CPU", cpu_watts=8.0, threads=2,
                       tdp_origin="per_thread_default", per_thread_watts=4.0, ram_watts=10.0)


def mlp_step_flops(batch: int, sizes: list[int]) -> int:
    """FlopCounterMode's count of one step of an MLP with these layer sizes, by hand: each Linear
    costs 2*in*out per example forward (a multiply-add is 2 FLOPs); backward computes the weight
    gradient (the same again) for every layer and the input gradient for every layer but the
    first (the data needs none). Bias adds, activations and the loss are not counted."""
    layers = list(zip(sizes[:-1], sizes[1:]))
    forward = sum(2 * batch * i * o for i, o in layers)
    weight_grads = forward
    input_grads = sum(2 * batch * i * o for i, o in layers[1:])
    return forward + weight_grads + input_grads


def fit(ds, epochs=3, batch_size=32, seed=0, hidden=(16, 8)):
    train.seed_everything(seed)
    net = models.mlp(ds.n_features, list(hidden), ds.n_outputs)
    return train.Trainer(net, ds, train.TrainConfig(epochs=epochs, batch_size=batch_size,
                                                    seed=seed)).fit()


@pytest.fixture
def tdp_machine(monkeypatch):
    """A machine whose power model is the TDP fallback (what this test machine has)."""
    monkeypatch.setattr(green_power, "power_model", lambda refresh=False: TDP_MODEL)
    return TDP_MODEL


# ---- FLOPs ---------------------------------------------------------------------------------------
def test_mlp_flops_equal_the_hand_count_times_the_steps(moons, tdp_machine):
    trainer = fit(moons, epochs=3, batch_size=32)
    n = moons.n_train                          # 280 rows: 8 batches of 32 and one of 24
    full, rest = divmod(n, 32)
    per_epoch = full * mlp_step_flops(32, [2, 16, 8, 2]) + mlp_step_flops(rest, [2, 16, 8, 2])
    assert trainer.green.flops == 3 * per_epoch
    assert [h["flops"] for h in trainer.history] == [per_epoch, 2 * per_epoch, 3 * per_epoch]
    assert trainer.green.steps == 3 * (full + 1) and trainer.green.examples == 3 * n
    footprint = trainer.footprint()
    assert footprint.flops == 3 * per_epoch and footprint.steps == 27


def test_step_flops_counts_one_step_on_a_copy(moons):
    train.seed_everything(0)
    net = models.mlp(2, [16, 8], 2)
    before = [p.detach().clone() for p in net.parameters()]
    x, y = torch.as_tensor(moons.X_train[:10]), torch.as_tensor(moons.y_train[:10])
    assert green.step_flops(net, x, y, "classification") == mlp_step_flops(10, [2, 16, 8, 2])
    assert all(p.grad is None for p in net.parameters())       # the model is left alone
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_fused_lstm_and_cpu_attention_are_counted():
    T, B, n_in, H = 5, 3, 4, 8
    lstm = nn.LSTM(n_in, H, batch_first=True)
    with green.flop_counter() as counter:
        out, _ = lstm(torch.randn(B, T, n_in))
        out.sum().backward()
    forward = 2 * T * B * (4 * H * n_in + 4 * H * H)  # the four gates' input and hidden products
    assert counter.get_total_flops() == 3 * forward     # backward: twice the forward
    q = torch.randn(2, 2, 6, 4, requires_grad=True)
    with green.flop_counter() as counter:
        nn.functional.scaled_dot_product_attention(q, q, q)
    assert counter.get_total_flops() == 2 * (2 * 2 * 2 * 6 * 6 * 4)   # QK^T and weights @ V


def test_counting_does_not_change_training(moons, tdp_machine, monkeypatch):
    measured = fit(moons, epochs=4)
    monkeypatch.setenv(green.ENV_VAR, "0")
    plain = fit(moons, epochs=4)
    assert plain.green is None
    assert [h["loss"] for h in plain.history] == [h["loss"] for h in measured.history]
    off = plain.footprint()
    assert off.flops is None and off.energy_kwh is None and "switched off" in off.energy_method
    assert "flops" not in plain.history[-1]


def test_a_counter_that_fails_leaves_training_alone(moons, tdp_machine, monkeypatch):
    reference = fit(moons, epochs=2)

    class Broken:
        def __enter__(self):
            raise RuntimeError("no counter today")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(green_flops, "flop_counter", Broken)
    trainer = fit(moons, epochs=2)
    assert trainer.status == "completed" and trainer.green.flops is None
    assert "no counter today" in trainer.footprint().flops_note
    assert [h["loss"] for h in trainer.history] == [h["loss"] for h in reference.history]
    assert "flops" not in trainer.history[-1] and trainer.history[-1]["energy_kwh"] > 0


# ---- energy --------------------------------------------------------------------------------------
class FakeClock:
    """perf_counter and process_time that the test moves by hand."""

    def __init__(self):
        self.wall = self.cpu = 0.0

    def perf_counter(self):
        return self.wall

    def process_time(self):
        return self.cpu


def test_tdp_fallback_is_codecarbons_process_formula(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(green_meter, "time", clock)
    meter = GreenMeter("cpu", power=TDP_MODEL)
    meter.epoch_start()
    clock.wall, clock.cpu = 3.0, 1.5                   # 3 s of wall time, 1.5 CPU seconds
    logs = {}
    meter.epoch_end(logs)
    joules = 8.0 / 2 * 1.5 + 10.0 * 3.0                # TDP / threads x CPU s + RAM W x wall s
    assert logs["energy_kwh"] == pytest.approx(joules / 3.6e6)
    assert meter.footprint("FRA").co2_kg == pytest.approx(joules / 3.6e6 * 56.039 / 1000)
    text = TDP_MODEL.describe()
    assert "Estimated, not measured" in text and "no readable CPU power counters (RAPL)" in text
    assert "4 W per thread x 2 threads" in text and "10 W for memory" in text


def test_rapl_counters_are_read_per_epoch_and_may_wrap(tmp_path, monkeypatch):
    counter, limit = tmp_path / "energy_uj", tmp_path / "max_energy_range_uj"
    counter.write_text("999000000")
    limit.write_text("1000000000")
    monkeypatch.setattr(green_meter, "time", FakeClock())
    meter = GreenMeter("cpu", power=PowerModel("rapl", ram_watts=0.0,
                                               rapl_files=(str(counter),)))
    meter.epoch_start()
    counter.write_text("500000")                       # wrapped: 1 J to the top, then 0.5 J
    logs = {}
    meter.epoch_end(logs)
    assert logs["energy_kwh"] == pytest.approx(1.5 / 3.6e6)
    assert "Measured" in meter.power.describe()


def test_unavailable_energy_is_said_not_guessed(moons, monkeypatch):
    broken = PowerModel("unavailable", reason="codecarbon failed (no data)")
    monkeypatch.setattr(green_power, "power_model", lambda refresh=False: broken)
    trainer = fit(moons, epochs=2)
    assert trainer.status == "completed"
    assert "energy_kwh" not in trainer.history[-1] and trainer.history[-1]["flops"] > 0
    footprint = trainer.footprint()
    assert footprint.energy_kwh is None and footprint.co2_kg is None
    assert footprint.energy_method == "Energy is unavailable: codecarbon failed (no data)."


def test_energy_grows_with_the_epochs_on_this_machine(moons):
    trainer = fit(moons, epochs=3)
    footprint = trainer.footprint()
    if not green.power_model().available:
        assert footprint.energy_kwh is None
        return
    energies = [h["energy_kwh"] for h in trainer.history]
    assert 0 < energies[0] < energies[1] < energies[2] == footprint.energy_kwh
    assert footprint.co2_kg == pytest.approx(
        footprint.energy_kwh * green.carbon_intensity(footprint.country) / 1000)


def test_carbon_intensity_is_codecarbons():
    from codecarbon.core.emissions import Emissions
    from codecarbon.core.units import Energy
    from codecarbon.external.geography import GeoMetadata
    from codecarbon.input import DataSource

    emissions = Emissions(DataSource())
    for code in ("FRA", "USA", "DEU", "IND", "NOR"):
        kg = emissions.get_country_emissions(Energy.from_energy(kWh=1.0),
                                             GeoMetadata(country_iso_code=code))
        assert green.co2_kg(1.0, code) == pytest.approx(kg)
    assert green.carbon_intensity(green.WORLD) == 475.0
    names = green.countries()
    assert next(iter(names)) == green.WORLD and names["FRA"] == "France" and len(names) > 200
    with pytest.raises(ValueError, match="ISO 3166"):
        green.carbon_intensity("XXX")


@pytest.mark.slow
def test_the_per_epoch_sum_agrees_with_codecarbons_own_tracker(moons):
    """The same fit, measured by nnplay per epoch and by an OfflineEmissionsTracker around it."""
    if not green.power_model().available:
        pytest.skip("no power model on this machine")
    train.seed_everything(0)
    trainer = train.Trainer(models.mlp(2, [64, 64], 2), moons,
                            train.TrainConfig(epochs=60, batch_size=16))
    with green.codecarbon_tracker("FRA") as reading:
        trainer.fit()
    assert not reading.error
    mine = trainer.footprint("FRA")
    assert mine.energy_kwh == pytest.approx(reading.energy_kwh, rel=0.15)
    assert mine.co2_kg == pytest.approx(reading.emissions_kg, rel=0.15)


def test_codecarbons_tracker_reads_a_block_shorter_than_its_50_ms_guard():
    """codecarbon's stop() skips a reading taken under 50 ms after the last one; the tracker
    takes that reading itself, so a short block costs its memory watts for its duration, not
    nothing."""
    model = green.power_model()
    if model.source != "tdp":
        pytest.skip("energy here is not codecarbon's TDP x load estimate")
    outer = time.perf_counter()
    with green.codecarbon_tracker("FRA") as reading:
        inner = time.perf_counter()
        time.sleep(0.02)
        body = time.perf_counter() - inner
    outer = time.perf_counter() - outer
    assert not reading.error
    # its energy window holds the block and lies within the tracker's start and stop
    joules = reading.ram_kwh * green.J_PER_KWH
    assert 0.95 * model.ram_watts * body <= joules <= 1.05 * model.ram_watts * outer


def test_formatting_for_people():
    assert green.format_flops(1_388_800) == "1.39 MFLOP"
    assert green.format_flops(None) == "not counted"
    assert green.format_energy(1.5 / 3.6e6) == "1.5 J"
    assert green.format_energy(0.002) == "2 Wh" and green.format_energy(3.0) == "3 kWh"
    assert green.format_co2(0.5) == "500 g CO2e" and green.format_co2(None) == "unavailable"


# ---- where the numbers go ------------------------------------------------------------------------
def test_run_store_keeps_the_footprint_and_reads_old_records(moons, tdp_machine):
    trainer = fit(moons, epochs=2)
    record = runs.make_record(trainer, {"family": "mlp", "params": {}}, lesson="green_ai")
    assert record["green"]["flops"] == trainer.green.flops
    assert record["green"]["energy_kwh"] == pytest.approx(trainer.green.energy_kwh)
    store = runs.RunStore()
    new_id = store.save(record)
    old = {k: v for k, v in record.items() if k != "green"}
    old["history"] = [{k: v for k, v in h.items() if k not in ("flops", "energy_kwh")}
                      for h in record["history"]]
    old_id = store.save(old)            # a run recorded before Green AI
    table = store.list().set_index("id")
    assert table.loc[new_id, "flops"] == trainer.green.flops
    assert table.loc[new_id, "co2_kg"] == pytest.approx(record["green"]["co2_kg"])
    assert np.isnan(table.loc[old_id, "flops"]) and np.isnan(table.loc[old_id, "energy_kwh"])
    assert store.get(old_id).get("green") is None
    assert runs.record_footprint(store.get(old_id)) == {"flops": None, "energy_kwh": None,
                                                        "co2_kg": None}


@pytest.mark.slow
def test_cli_json_has_flops_and_energy():
    out = subprocess.run([sys.executable, "-m", "nnplay", "train", "--dataset", "moons",
                          "--epochs", "2", "--json", "--no-record"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["flops"] > 0 and "energy_kwh" in summary and "co2_kg" in summary
    if summary["energy_kwh"] is not None:
        assert summary["energy_kwh"] > 0 and summary["co2_kg"] > 0
    line = next(x for x in out.stdout.splitlines() if x.startswith("footprint   "))
    assert green.format_flops(summary["flops"]) in line


def test_model_card_shows_the_training_footprint(moons, tdp_machine):
    from nnplay.production import card
    from nnplay.train.workspace import Workspace

    trainer = fit(moons, epochs=2)
    entry = Workspace().register(trainer.model, moons, {"family": "mlp", "params": {}},
                                 "green_ai", train_config=trainer.config,
                                 history=trainer.history_copy())
    text = card.model_card(entry)
    line = next(x for x in text.splitlines() if x.startswith("- **Training footprint:**"))
    assert green.format_flops(trainer.green.flops) in line and "CO2e" in line
    bare = Workspace().register(trainer.model, moons, {"family": "mlp", "params": {}}, "upload")
    assert "Training footprint" not in card.model_card(bare)


def test_describe_says_what_codecarbon_chose_here():
    model = green.power_model()
    text = model.describe()
    assert text.endswith(".") and "None" not in text and "nan" not in text
    if model.source == "tdp":
        assert f"{model.cpu_watts:g} W at full load" in text


def test_power_model_survives_a_broken_codecarbon(monkeypatch, tmp_path):
    monkeypatch.setattr(green_power, "_cache_file", lambda: tmp_path / "power.json")
    monkeypatch.setattr(green_power, "_detect", lambda key: (_ for _ in ()).throw(OSError("boom")))
    monkeypatch.setattr(green_power, "_MODEL", None)
    model = green.power_model(refresh=True)
    assert model.source == "unavailable" and "boom" in model.reason
    assert not (tmp_path / "power.json").exists()       # a failure is not remembered
    monkeypatch.setattr(green_power, "_detect", lambda key: TDP_MODEL)
    assert green.power_model(refresh=True) == TDP_MODEL
    assert json.loads((tmp_path / "power.json").read_text())["model"]["cpu_watts"] == 8.0
    monkeypatch.setattr(green_power, "_MODEL", None)
    monkeypatch.setattr(green_power, "_detect", lambda key: SimpleNamespace())   # not called again
    assert green.power_model() == TDP_MODEL             # read back from the file
