"""Green AI measurements: what a training run cost in compute (FLOPs), energy and CO2.

FLOPs. ``torch.utils.flop_counter.FlopCounterMode`` counts the first training step (forward and
backward) of each batch shape a run sees, during that real step; the run's count is that number
times the steps taken, so counting costs no extra step. Matrix products, convolutions and
attention are counted, a multiply-add as 2 FLOPs; element-wise work (activations, the loss, the
optimizer's update) and evaluation are not, so the count is a floor. Fused recurrent layers
(oneDNN's LSTM on a CPU, cuDNN's RNNs on a GPU) and the CPU's fused attention, which
FlopCounterMode does not know, get formulas here.

Energy. codecarbon (offline) decides, once per machine, how power is known here
(``power_model()``): with readable RAPL counters the CPU package's energy is read at the start
and end of every epoch; without them codecarbon falls back to an estimate from the CPU's TDP,
TDP x this process's CPU load (its ``tracking_mode="process"`` formula, so the energy is
TDP / threads x CPU seconds), plus its estimate for memory; on a CUDA GPU the driver's energy
counter is read too. A run's energy is the sum over its epochs: cheap enough for the
Playground's one-epoch chunks. ``codecarbon_tracker`` runs codecarbon's own
``OfflineEmissionsTracker`` around any block, to check the sum against it.

CO2 is energy x the carbon intensity of a country's grid (codecarbon's offline data, the same
numbers its OfflineEmissionsTracker(country_iso_code=...) uses); "WORLD" is its world average.

Measurement never breaks training: what cannot be measured is recorded as unavailable, with
the reason. ``NNPLAY_GREEN=0`` switches it off; ``NNPLAY_COUNTRY`` sets the default country.
"""

from __future__ import annotations

import contextlib
import copy
import glob
import importlib.util
import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import torch

ENV_VAR, COUNTRY_ENV = "NNPLAY_GREEN", "NNPLAY_COUNTRY"
WORLD = "WORLD"               # codecarbon's world-average carbon intensity
J_PER_KWH = 3.6e6
RAPL_GLOB = "/sys/class/powercap/intel-rapl:[0-9]*/energy_uj"   # CPU packages, not sub-zones


def enabled() -> bool:
    """False when NNPLAY_GREEN is 0, off, false or no (tests, benchmarks)."""
    return os.environ.get(ENV_VAR, "1").strip().lower() not in ("0", "off", "false", "no")


def default_country() -> str:
    """NNPLAY_COUNTRY (an ISO 3166 alpha-3 code such as FRA) when it is known, else WORLD."""
    code = os.environ.get(COUNTRY_ENV, "").strip().upper()
    return code if code in countries() else WORLD


# ---- carbon intensity: codecarbon's offline data ---------------------------------------------------
def _codecarbon_data() -> Path | None:
    """codecarbon's data folder, found without importing codecarbon (its import takes ~0.5 s)."""
    spec = importlib.util.find_spec("codecarbon")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "private_infra"


@lru_cache(maxsize=1)
def _intensities() -> dict[str, tuple[str, float]]:
    """ISO code -> (country name, g CO2e per kWh), the way codecarbon's offline mode computes it:
    the country's own carbon intensity, else its energy mix weighted by each source's intensity."""
    folder = _codecarbon_data()
    try:
        mix = json.loads((folder / "global_energy_mix.json").read_text())
        per_source = json.loads((folder / "carbon_intensity_per_source.json").read_text())
    except (TypeError, OSError, ValueError):   # codecarbon missing or its data unreadable
        return {}
    table = {WORLD: ("World average", float(per_source["world_average"]))}
    for code, row in mix.items():
        if row.get("carbon_intensity") is not None:
            table[code] = (row["country_name"], float(row["carbon_intensity"]))
            continue
        parts = {k[:-4]: v for k, v in row.items() if k.endswith("_TWh") and k != "total_TWh"}
        known = {k: v for k, v in parts.items() if per_source.get(k) is not None}
        total = row.get("total_TWh") or 0
        value = (sum(v / total * per_source[k] for k, v in known.items())
                 if total and sum(known.values()) == total else per_source["world_average"])
        table[code] = (row["country_name"], float(value))
    return table


def countries() -> dict[str, str]:
    """ISO code -> country name for every grid codecarbon knows, WORLD first, then by name."""
    table = _intensities()
    rest = sorted((k for k in table if k != WORLD), key=lambda k: table[k][0])
    return {k: table[k][0] for k in ([WORLD] if WORLD in table else []) + rest}


def carbon_intensity(country: str = WORLD) -> float:
    """Grams of CO2-equivalent per kWh of the country's grid; ValueError for an unknown code."""
    table = _intensities()
    if country not in table:
        raise ValueError(f"No carbon intensity for {country!r}; choose an ISO 3166 alpha-3 code "
                         "such as FRA, DEU or USA, or WORLD for the world average.")
    return table[country][1]


def co2_kg(energy_kwh: float | None, country: str = WORLD) -> float | None:
    """Kilograms of CO2e for ``energy_kwh`` on the country's grid (None stays None)."""
    return None if energy_kwh is None else energy_kwh * carbon_intensity(country) / 1000.0


# ---- the power model: how codecarbon knows this machine's power --------------------------------------
@dataclass(frozen=True)
class PowerModel:
    """How energy is known on this machine, as codecarbon set it up (tracking_mode="process")."""

    source: str                  # rapl (counters) | tdp (estimate x load) | constant | unavailable
    cpu_model: str = ""
    cpu_watts: float = 0.0       # the CPU power at full load codecarbon uses (its TDP)
    threads: int = 1             # logical CPUs codecarbon divides the load by
    tdp_origin: str = ""         # table | per_thread_default | global_default
    per_thread_watts: float = 0.0  # codecarbon's default per thread, when it used it
    ram_watts: float = 0.0       # codecarbon's memory estimate for this process
    rapl_files: tuple = ()       # the package energy counters read, when source is rapl
    codecarbon_version: str = ""
    reason: str = ""             # why energy is unavailable

    @property
    def available(self) -> bool:
        return self.source in ("rapl", "tdp", "constant")

    def describe(self) -> str:
        """How the energy numbers are made here, in a sentence or two a learner can check."""
        ram = f", plus {self.ram_watts:g} W for memory (codecarbon's estimate)"
        if self.source == "rapl":
            return ("Measured: the CPU package energy counters (RAPL), read at the start and end "
                    "of every epoch; they count the whole machine, not only this run" + ram + ".")
        if not self.available:
            return f"Energy is unavailable: {self.reason or 'codecarbon could not be set up'}."
        if self.tdp_origin == "per_thread_default":
            tdp = (f"{self.cpu_watts:g} W at full load: '{self.cpu_model}' is not in its table "
                   f"of CPUs, so it uses its default of {self.per_thread_watts:g} W per thread x "
                   f"{self.threads} threads")
        elif self.tdp_origin == "global_default":
            tdp = (f"{self.cpu_watts:g} W at full load: its default for a CPU it could not "
                   f"identify ('{self.cpu_model or 'unknown'}')")
        else:
            tdp = f"{self.cpu_watts:g} W at full load, the TDP of '{self.cpu_model}' in its table"
        use = ("scaled by this process's CPU load (so each CPU second costs "
               f"{self.cpu_watts / max(self.threads, 1):g} J)" if self.source == "tdp" else
               "at a constant half of that")
        return ("Estimated, not measured: this machine has no readable CPU power counters (RAPL), "
                f"so codecarbon falls back to the CPU's TDP: {tdp}, {use}" + ram + ".")

    def to_dict(self) -> dict:
        return {**asdict(self), "rapl_files": list(self.rapl_files)}


_MODEL: PowerModel | None = None
_MODEL_LOCK = threading.Lock()


def _machine_key() -> dict:
    """What the detected power model depends on: a cached model for another machine is redone."""
    try:
        from importlib.metadata import version

        cc_version = version("codecarbon")
    except Exception:  # noqa: BLE001 - not installed: nothing to detect
        cc_version = ""
    model = ""
    with contextlib.suppress(OSError):
        model = next((line.split(":", 1)[1].strip() for line in
                      Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    return {"codecarbon": cc_version, "cpu": model, "cpus": os.cpu_count(),
            "rapl": sorted(p for p in glob.glob(RAPL_GLOB) if os.access(p, os.R_OK))}


def _cache_file() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("nnplay")) / "power_model.json"


def power_model(refresh: bool = False) -> PowerModel:
    """This machine's PowerModel, detected by codecarbon once (about 2 s) and remembered: in this
    process, and in a small file in the user's cache folder keyed by the CPU and codecarbon's
    version. Never raises: a failure is a PowerModel with source "unavailable" and the reason."""
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is not None and not refresh:
            return _MODEL
        key, path = _machine_key(), None
        with contextlib.suppress(Exception):
            path = _cache_file()
            if not refresh and path.is_file():
                saved = json.loads(path.read_text())
                if saved.get("key") == key:
                    fields_ = saved["model"]
                    _MODEL = PowerModel(**{**fields_, "rapl_files": tuple(fields_["rapl_files"])})
                    return _MODEL
        try:
            _MODEL = _detect(key)
        except Exception as err:  # noqa: BLE001 - measurement must never break training
            _MODEL = PowerModel("unavailable", reason=f"codecarbon failed ({err})")
        if path is not None and _MODEL.available:
            with contextlib.suppress(OSError):
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps({"key": key, "model": _MODEL.to_dict()}))
        return _MODEL


class _Heard(logging.Filter):
    """Keeps codecarbon quiet while it works, and what it warned (its fallbacks say what it
    chose); a filter on its logger, since every tracker re-installs codecarbon's own handler."""

    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def filter(self, record) -> bool:
        if record.levelno >= logging.WARNING:
            self.messages.append(record.getMessage())
        return False


@contextlib.contextmanager
def _quiet_codecarbon():
    log, heard = logging.getLogger("codecarbon"), _Heard()
    log.addFilter(heard)
    try:
        yield heard
    finally:
        log.removeFilter(heard)


def _detect(key: dict) -> PowerModel:
    """Start and stop one OfflineEmissionsTracker (its hardware set-up) and read what it chose."""
    if not key["codecarbon"]:
        return PowerModel("unavailable", reason="codecarbon is not installed")
    from codecarbon import OfflineEmissionsTracker
    from codecarbon.core import cpu as cc_cpu

    with _quiet_codecarbon() as heard:
        tracker = OfflineEmissionsTracker(
            country_iso_code="USA", output_methods=[], log_level="warning",
            tracking_mode="process", measure_power_secs=3600, allow_multiple_runs=True)
        tracker.start()
        tracker.stop()
    hardware = list(tracker._hardware)   # codecarbon 3.x: its CPU and RAM objects
    cpu = next((h for h in hardware if type(h).__name__ == "CPU"), None)
    ram = next((h for h in hardware if type(h).__name__ == "RAM"), None)
    ram_watts = float(ram.total_power().W) if ram is not None else 0.0
    if cpu is None:
        return PowerModel("unavailable", reason="codecarbon found no CPU to track",
                          codecarbon_version=key["codecarbon"])
    said = " ".join(heard.messages)
    origin = ("per_thread_default" if "default power consumption of" in said else
              "global_default" if getattr(cpu, "_is_generic_tdp", False) else "table")
    mode = getattr(cpu, "_mode", "")
    source = {"intel_rapl": "rapl", "cpu_load": "tdp", "constant": "constant"}.get(mode)
    rapl = tuple(key["rapl"])
    if source == "rapl" and not rapl:
        source = None
    common = dict(cpu_model=str(getattr(cpu, "_model", "") or ""),
                  cpu_watts=float(getattr(cpu, "_tdp", 0) or 0),
                  threads=int(getattr(cpu, "_cpu_count", 0) or os.cpu_count() or 1),
                  tdp_origin=origin, per_thread_watts=float(cc_cpu.DEFAULT_POWER_PER_CORE)
                  if origin == "per_thread_default" else 0.0, ram_watts=ram_watts,
                  rapl_files=rapl if source == "rapl" else (),
                  codecarbon_version=key["codecarbon"])
    if source is None:
        return PowerModel("unavailable", reason=f"codecarbon tracks this CPU with {mode!r}, "
                          "which nnplay does not read per epoch", **common)
    return PowerModel(source, **common)


# ---- FLOPs ---------------------------------------------------------------------------------------
def _rnn_flops(input_shape, weight_shapes) -> int:
    """Forward FLOPs of a fused recurrent layer: every 2-D weight meets each of the T x B vectors."""
    steps = input_shape[0] if len(input_shape) == 2 else input_shape[0] * input_shape[1]
    return sum(2 * steps * s[0] * s[1] for s in weight_shapes if s is not None and len(s) == 2)


def _extra_formulas() -> dict:
    from torch.utils.flop_counter import sdpa_backward_flop_count, sdpa_flop_count

    aten, table = torch.ops.aten, {}

    def add(name, formula):
        if hasattr(aten, name):
            table[getattr(aten, name)] = formula

    # oneDNN LSTM layer (CPU): (input, w_ih, w_hh, b_ih, b_hh, ...); backward twice the forward
    add("mkldnn_rnn_layer", lambda x, w1, w2, *a, **k: _rnn_flops(x, (w1, w2)))
    add("mkldnn_rnn_layer_backward", lambda x, w1, w2, *a, **k: 2 * _rnn_flops(x, (w1, w2)))
    # cuDNN RNN/LSTM/GRU (GPU): (input, [weights per layer and direction], ...)
    add("_cudnn_rnn", lambda x, ws, *a, **k: _rnn_flops(x, ws))
    add("_cudnn_rnn_backward", lambda x, ws, *a, **k: 2 * _rnn_flops(x, ws))
    add("_scaled_dot_product_flash_attention_for_cpu",
        lambda q, k_, v, *a, **k: sdpa_flop_count(q, k_, v))
    add("_scaled_dot_product_flash_attention_for_cpu_backward",
        lambda g, q, k_, v, *a, **k: sdpa_backward_flop_count(g, q, k_, v))
    return table


def flop_counter():
    """A FlopCounterMode that also knows fused LSTMs and the CPU's fused attention."""
    from torch.utils.flop_counter import FlopCounterMode

    return FlopCounterMode(display=False, custom_mapping=_extra_formulas())


def step_flops(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, task: str) -> int:
    """FLOPs of one training step (forward, loss and backward) on a batch, counted on a copy of
    the model so its weights, gradients, statistics and random streams are left alone."""
    from nnplay.train.trainer import task_loss

    twin = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]), flop_counter() as counter:
        task_loss(task, twin(x), y).backward()
    return int(counter.get_total_flops())


# ---- one run's meter -------------------------------------------------------------------------------
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
        self.power = power if power is not None else power_model()
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
                with flop_counter() as counter:
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
            except (OSError, ValueError) as err:
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


FLOPS_NOTE = ("Training steps only (forward and backward), counted by PyTorch's FlopCounterMode "
              "on the first step of each batch shape: matrix products, convolutions and "
              "attention, a multiply-add as 2 FLOPs; element-wise work and evaluation are left "
              "out.")


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


# ---- codecarbon's own tracker, around any block ----------------------------------------------------
@dataclass
class CodecarbonReading:
    """What an OfflineEmissionsTracker reported for a block; ``error`` when it could not run."""

    country: str
    energy_kwh: float | None = None
    emissions_kg: float | None = None
    seconds: float | None = None
    error: str = ""


@contextlib.contextmanager
def codecarbon_tracker(country: str = WORLD):
    """Run codecarbon's OfflineEmissionsTracker(country_iso_code=country) around the block; the
    reading is filled in when the block ends (or its ``error`` says why not). WORLD is the USA's
    code with codecarbon's world-average intensity forced."""
    reading, tracker = CodecarbonReading(country), None
    try:
        from codecarbon import OfflineEmissionsTracker

        extra = ({"force_carbon_intensity_g_co2e_kwh": carbon_intensity(WORLD)}
                 if country == WORLD else {})
        with _quiet_codecarbon():
            tracker = OfflineEmissionsTracker(
                country_iso_code="USA" if country == WORLD else country, output_methods=[],
                log_level="error", tracking_mode="process", measure_power_secs=3600,
                allow_multiple_runs=True, **extra)
            tracker.start()
    except Exception as err:  # noqa: BLE001 - the work runs anyway
        reading.error, tracker = f"codecarbon could not start ({err})", None
    try:
        yield reading
    finally:
        if tracker is not None:
            try:
                with _quiet_codecarbon():
                    tracker.stop()
                data = tracker.final_emissions_data
                reading.energy_kwh, reading.emissions_kg = data.energy_consumed, data.emissions
                reading.seconds = data.duration
            except Exception as err:  # noqa: BLE001
                reading.error = f"codecarbon could not finish ({err})"


# ---- numbers for people ------------------------------------------------------------------------------
def _scaled(value: float, units: tuple[tuple[float, str], ...]) -> str:
    for factor, unit in units:
        if abs(value) >= factor:
            return f"{value / factor:.3g} {unit}"
    factor, unit = units[-1]
    return f"{value / factor:.3g} {unit}"


def _missing(value) -> bool:
    return value is None or value != value     # None or NaN (a missing number in a table)


def format_flops(flops: float | None) -> str:
    """1.39e6 -> '1.39 MFLOP'; None or NaN -> 'not counted'."""
    if _missing(flops):
        return "not counted"
    return _scaled(float(flops), ((1e15, "PFLOP"), (1e12, "TFLOP"), (1e9, "GFLOP"),
                                  (1e6, "MFLOP"), (1e3, "kFLOP"), (1, "FLOP")))


def format_energy(kwh: float | None) -> str:
    """Energy in the unit that reads best: kWh, Wh or J; None or NaN -> 'unavailable'."""
    if _missing(kwh):
        return "unavailable"
    if kwh >= 100:
        return f"{kwh:,.0f} kWh"
    if kwh >= 1:
        return f"{kwh:.3g} kWh"
    joules = kwh * J_PER_KWH
    return f"{kwh * 1000:.3g} Wh" if joules >= 3600 else f"{joules:.3g} J"


def format_co2(kg: float | None) -> str:
    """CO2e in t, kg, g or mg; None or NaN -> 'unavailable'."""
    if _missing(kg):
        return "unavailable"
    return _scaled(float(kg) * 1000.0, ((1e6, "t CO2e"), (1e3, "kg CO2e"), (1, "g CO2e"),
                                        (1e-3, "mg CO2e"), (1e-6, "µg CO2e")))


def footprint_line(flops: float | None, energy_kwh: float | None,
                   country: str | None = None) -> str:
    """One sentence for a model card or a summary: the training's FLOPs, energy and CO2."""
    country = country or default_country()
    parts = [f"{format_flops(flops)} of training compute" if flops is not None else
             "training compute not counted"]
    if energy_kwh is not None:
        try:
            co2 = format_co2(co2_kg(energy_kwh, country))
            grid = f" on the {countries()[country]} grid" if country != WORLD else \
                " on a world-average grid"
        except (ValueError, KeyError):
            co2, grid = "unknown CO2", ""
        parts.append(f"about {format_energy(energy_kwh)} of energy, {co2}{grid} (estimated "
                     "with codecarbon's power model; the Green AI lesson says how)")
    else:
        parts.append("energy not measured")
    return "; ".join(parts)
