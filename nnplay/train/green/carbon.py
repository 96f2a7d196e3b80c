"""Carbon intensity of electricity grids, from codecarbon's offline data.

CO2 is energy x the carbon intensity of a country's grid: the numbers codecarbon's
OfflineEmissionsTracker(country_iso_code=...) uses, read here without importing codecarbon (its
import takes about half a second). WORLD is its world average. NNPLAY_COUNTRY sets the default.
"""

from __future__ import annotations

import importlib.util
import json
import os
from functools import lru_cache
from pathlib import Path

COUNTRY_ENV = "NNPLAY_COUNTRY"
WORLD = "WORLD"               # codecarbon's world-average carbon intensity
J_PER_KWH = 3.6e6


def default_country() -> str:
    """NNPLAY_COUNTRY (an ISO 3166 alpha-3 code such as FRA) when it is known, else WORLD."""
    code = os.environ.get(COUNTRY_ENV, "").strip().upper()
    return code if code in countries() else WORLD


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
