"""One training run's meter: FLOPs per step and energy per epoch, added to the Trainer's logs,
and the run's Footprint.

The Trainer makes a GreenMeter when ``enabled()`` (NNPLAY_GREEN is not 0): the first step of
each batch shape runs under the FLOP counter (during the real step: no extra step), and every
epoch adds its energy by the power model's rule (RAPL counters, or codecarbon's TDP formula
TDP / threads x CPU seconds, or half the TDP x seconds; plus memory watts x seconds; plus the GPU's
NVML counter on CUDA). A failure makes the number unavailable, with the reason, and never stops
training.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from nnplay.train.green import flops as _flops
from nnplay.train.green import power as _power
from nnplay.train.green.carbon import J_PER_KWH, WORLD, carbon_intensity, default_country
from nnplay.train.green.flops import FLOPS_NOTE
from nnplay.train.green.power import PowerModel

ENV_VAR = "NNPLAY_GREEN"


def enabled() -> bool:
    """False when NNPLAY_GREEN is 0, off, false or no (tests, benchmarks)."""
    return os.environ.get(ENV_VAR, "1").strip().lower() not in ("0", "off", "false", "no")


class _RaplDelta:
    """Energy between two readings of the RAPL counters, allowing for one wrap of each."""

    def __init__(self, files):
        self.files = tuple(files)
        self.ranges = []
        for f in self.files:
            limit = Path(f).with_name("max_energy_range_uj")
            self.ranges.append(int(limit.read_text()) / 1e6 if limit.is_file() else 0.0)
        self.last = [int(Path(f).read_text()) / 1e6 for f in self.files]

    def joules(self) -> float:
        now = [int(Path(f).read_text()) / 1e6 for f in self.files]
        total = sum((b - a) if b >= a else (b + r - a)
                    for a, b, r in zip(self.last, now, self.ranges, strict=True))
        self.last = now
        return total


class _GpuEnergy:
    """The driver's energy counter of one CUDA device (NVML, Volta and later), in joules."""

    def __init__(self, device: torch.device):
        import pynvml

        pynvml.nvmlInit()
        index = device.index if device.index is not None else torch.cuda.current_device()
        self._nvml = pynvml
        self._handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        self.last = self._read()

    def _read(self) -> float:
        return self._nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle) / 1000.0

    def joules(self) -> float:
        now = self._read()
        total, self.last = now - self.last, now
        return max(total, 0.0)


class GreenMeter:
    """FLOPs and energy of one Trainer's run, added to each epoch's logs as ``flops`` and
    ``energy_kwh`` (totals so far). The Trainer makes one when ``enabled()``.

    ``flops`` is None when the counter failed (``flops_note`` says why); ``energy_kwh`` is None
    when energy is unavailable (``power.reason`` says why).
    """

    def __init__(self, device: torch.device | str = "cpu", power: PowerModel | None = None):
        self.device = torch.device(device)
        self.power = power if power is not None else _power.power_model()
        self.flops: int | None = 0
        self.steps = self.examples = 0
        self.seconds = 0.0
        self.energy_kwh: float | None = 0.0 if self.power.available else None
        self.flops_note = self.gpu_note = ""
        self._per_shape: dict = {}
        self._t0 = self._cpu0 = 0.0
        self._rapl = self._gpu = None
        if self.power.source == "rapl":
            try:
                self._rapl = _RaplDelta(self.power.rapl_files)
            except (OSError, ValueError) as err:
                self._unavailable(f"the RAPL counters could not be read ({err})")
        if self.device.type == "cuda":
            try:
                self._gpu = _GpuEnergy(self.device)
            except Exception as err:  # noqa: BLE001 - no NVML, or a GPU without the counter
                self.gpu_note = f"The GPU's energy is not included ({err})."

    def _unavailable(self, reason: str) -> None:
        self.energy_kwh, self.power = None, PowerModel("unavailable", reason=reason)

    # FLOPs: the first step of each batch shape runs under the counter -------------------------
    def train_step(self, step, xb, yb, *args):
        """Run ``step(xb, yb, *args)`` (one forward and backward), add its FLOPs, return its
        result. A step the counter breaks is run again without it, and FLOPs become unknown."""
        key = (tuple(xb.shape), xb.dtype)
        known = self._per_shape.get(key)
        if known is None and self.flops is not None:
            try:
                with _flops.flop_counter() as counter:
                    result = step(xb, yb, *args)
                known = self._per_shape[key] = int(counter.get_total_flops())
            except Exception as err:  # noqa: BLE001 - a real error fails again below
                self.flops, self.flops_note = None, f"FLOPs could not be counted ({err})."
                result = step(xb, yb, *args)
        else:
            result = step(xb, yb, *args)
        self.steps += 1
        self.examples += int(xb.shape[0])
        if self.flops is not None:
            self.flops += known
        return result

    # energy: read at the start and end of every epoch ----------------------------------------
    def epoch_start(self) -> None:
        self._t0, self._cpu0 = time.perf_counter(), time.process_time()

    def epoch_end(self, logs: dict) -> None:
        """Add this epoch's energy; put the run's totals so far in the epoch's ``logs``."""
        wall = time.perf_counter() - self._t0
        cpu_seconds = time.process_time() - self._cpu0
        self.seconds += wall
        if self.energy_kwh is not None:
            try:
                self.energy_kwh += self._epoch_joules(wall, cpu_seconds) / J_PER_KWH
            except Exception as err:  # noqa: BLE001 - a counter (RAPL, NVML) failed: say so
                self._unavailable(f"the power counters could not be read ({err})")
        if self.flops is not None:
            logs["flops"] = self.flops
        if self.energy_kwh is not None:
            logs["energy_kwh"] = self.energy_kwh

    def _epoch_joules(self, wall: float, cpu_seconds: float) -> float:
        p = self.power
        if p.source == "rapl":
            cpu = self._rapl.joules()
        elif p.source == "tdp":   # codecarbon's process mode: TDP x (CPU s / wall s / threads)
            cpu = p.cpu_watts * cpu_seconds / max(p.threads, 1)
        else:                     # codecarbon's constant mode: half the TDP
            cpu = p.cpu_watts * 0.5 * wall
        gpu = self._gpu.joules() if self._gpu is not None else 0.0
        return cpu + gpu + p.ram_watts * wall

    def footprint(self, country: str | None = None) -> Footprint:
        """The run so far as a Footprint, its CO2 on ``country``'s grid (default_country())."""
        country = country or default_country()
        try:
            intensity = carbon_intensity(country)
        except ValueError:   # codecarbon's data is missing: no CO2, the energy stays
            intensity = None
        method = self.power.describe()
        if self._gpu is not None:
            method += " The GPU's own energy counter is included."
        elif self.gpu_note:
            method += " " + self.gpu_note
        return Footprint(flops=self.flops, steps=self.steps, examples=self.examples,
                         seconds=round(self.seconds, 4), energy_kwh=self.energy_kwh,
                         co2_kg=None if intensity is None or self.energy_kwh is None
                         else self.energy_kwh * intensity / 1000.0, country=country,
                         intensity_g_per_kwh=intensity, energy_method=method,
                         flops_note=self.flops_note or FLOPS_NOTE)

    def __repr__(self) -> str:
        return (f"GreenMeter(flops={self.flops}, steps={self.steps}, "
                f"energy_kwh={self.energy_kwh}, source={self.power.source!r})")


@dataclass(frozen=True)
class Footprint:
    """What a run cost: FLOPs, steps, seconds, energy and CO2 (None where unavailable)."""

    flops: int | None
    steps: int
    examples: int
    seconds: float
    energy_kwh: float | None
    co2_kg: float | None
    country: str = WORLD
    intensity_g_per_kwh: float | None = None
    energy_method: str = ""
    flops_note: str = FLOPS_NOTE

    @property
    def joules(self) -> float | None:
        return None if self.energy_kwh is None else self.energy_kwh * J_PER_KWH

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Footprint:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


def unavailable_footprint(reason: str) -> Footprint:
    """The footprint of a run that was not measured (measurement switched off, or no meter)."""
    return Footprint(None, 0, 0, 0.0, None, None, energy_method=f"Energy is unavailable: {reason}.",
                     flops_note=f"FLOPs were not counted: {reason}.")
