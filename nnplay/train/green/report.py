"""A run's footprint in words and units a person reads: FLOPs, energy, CO2e."""

from __future__ import annotations

from nnplay.train.green.carbon import J_PER_KWH, WORLD, co2_kg, countries, default_country


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
