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

Modules: ``carbon`` (grid intensities), ``power`` (the power model, codecarbon's tracker),
``flops`` (the counter and its extra formulas), ``meter`` (one run's GreenMeter and Footprint),
``report`` (numbers for people).
"""

from nnplay.train.green.carbon import (
    COUNTRY_ENV,
    J_PER_KWH,
    WORLD,
    carbon_intensity,
    co2_kg,
    countries,
    default_country,
)
from nnplay.train.green.flops import FLOPS_NOTE, flop_counter, step_flops
from nnplay.train.green.meter import (
    ENV_VAR,
    Footprint,
    GreenMeter,
    enabled,
    unavailable_footprint,
)
from nnplay.train.green.power import (
    CodecarbonReading,
    PowerModel,
    codecarbon_tracker,
    power_model,
)
from nnplay.train.green.report import footprint_line, format_co2, format_energy, format_flops

__all__ = ["COUNTRY_ENV", "ENV_VAR", "FLOPS_NOTE", "J_PER_KWH", "WORLD", "CodecarbonReading",
           "Footprint", "GreenMeter", "PowerModel", "carbon_intensity", "co2_kg",
           "codecarbon_tracker", "countries", "default_country", "enabled", "flop_counter",
           "footprint_line", "format_co2", "format_energy", "format_flops", "power_model",
           "step_flops", "unavailable_footprint"]
