"""How this machine's power is known, as codecarbon (offline) sets it up, and codecarbon's own
tracker around any block of work.

``power_model()`` starts and stops one OfflineEmissionsTracker (tracking_mode="process") once per
machine and reads what it chose: RAPL counters when they are readable, else its estimate from
the CPU's TDP (scaled by the process's CPU load) with the constant it used, plus its memory
estimate. The result is remembered in this process and in a small file in the user's cache
folder. ``codecarbon_tracker`` runs an OfflineEmissionsTracker around a block, as a check.
"""

from __future__ import annotations

import contextlib
import glob
import json
import logging
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from nnplay.train.green.carbon import WORLD, carbon_intensity

RAPL_GLOB = "/sys/class/powercap/intel-rapl:[0-9]*/energy_uj"   # CPU packages, not sub-zones


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


# ---- codecarbon's own tracker, around any block ----------------------------------------------------
@dataclass
class CodecarbonReading:
    """What an OfflineEmissionsTracker reported for a block; ``error`` when it could not run."""

    country: str
    energy_kwh: float | None = None
    emissions_kg: float | None = None
    seconds: float | None = None
    cpu_kwh: float | None = None     # its CPU part
    ram_kwh: float | None = None     # its memory part (0 when it could not read the memory)
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
                    # codecarbon's stop() skips its last reading when the previous one (the
                    # start) is under 50 ms old, so a short block read as almost nothing:
                    # take that reading first (private, hence guarded)
                    with contextlib.suppress(Exception):
                        tracker._measure_power_and_energy()
                    tracker.stop()
                data = tracker.final_emissions_data
                reading.energy_kwh, reading.emissions_kg = data.energy_consumed, data.emissions
                reading.seconds = data.duration
                reading.cpu_kwh, reading.ram_kwh = data.cpu_energy, data.ram_energy
            except Exception as err:  # noqa: BLE001
                reading.error = f"codecarbon could not finish ({err})"
