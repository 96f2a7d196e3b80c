"""Green AI: what training costs in compute, energy and CO2, and accuracy per joule and per FLOP.

Schwartz, Dodge, Smith and Etzioni (2020), "Green AI" (Communications of the ACM 63(12)), ask
that a result be reported with its computational price: FLOPs (independent of the hardware) and
energy, next to accuracy. ``EfficiencyRace`` trains a few small architectures on one dataset
through the one Trainer, which counts every run's FLOPs and energy (``nnplay.train.green``), and
compares them by accuracy per kilojoule and per GFLOP; codecarbon's own OfflineEmissionsTracker
runs around each training as a check on the per-epoch estimate. ``runs_footprint`` reads the same
numbers for any stored run. ``STRUBELL_2019`` quotes the published figures of Strubell, Ganesh
and McCallum (2019) so a run here can be put in perspective.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from nnplay.data.dataset import Dataset
from nnplay.models import build_model, count_parameters
from nnplay.train import TrainConfig, Trainer, evaluate, green, seed_everything
from nnplay.train.jobs import Cancelled, check_stop, fit_stoppable, progress_part

DATASETS = ("digits", "mnist5k")          # the first is the default: seconds per architecture
ARCHITECTURES = {
    "linear": {"family": "mlp", "params": {"hidden": []}},
    "small MLP": {"family": "mlp", "params": {"hidden": [32]}},
    "wide MLP": {"family": "mlp", "params": {"hidden": [512, 256]}},
    "CNN": {"family": "cnn", "params": {"channels": [8, 16], "hidden": [64]}},
}
DEFAULT_EPOCHS = 10
RACE_COLUMNS = ("architecture", "params", "flops", "seconds", "energy_kwh", "co2_kg",
                "test_accuracy", "accuracy_per_kj", "accuracy_per_gflop", "codecarbon_kwh",
                "status")


def times(ratio: float) -> str:
    """A ratio for a sentence: '3.6x', '364x', '36 billion times'."""
    for size, word in ((1e9, "billion"), (1e6, "million")):
        if ratio >= size:
            return f"{ratio / size:,.3g} {word} times"
    return f"{ratio:.2g}x" if ratio < 10 else f"{ratio:,.0f}x"


def count_words(value) -> str:
    """A large count for a table: '1.74 million', '36 billion', '412'; '-' when missing."""
    if value is None or pd.isna(value):
        return "-"
    for size, word in ((1e9, "billion"), (1e6, "million")):
        if value >= size:
            return f"{value / size:,.3g} {word}"
    return f"{value:,.0f}" if value >= 10 else f"{value:.2g}"


def efficiency(accuracy: float | None, energy_kwh: float | None, flops: float | None
               ) -> tuple[float | None, float | None]:
    """(test accuracy per kJ, per GFLOP): Schwartz et al.'s efficiency next to the accuracy."""
    per_kj = (accuracy / (energy_kwh * green.J_PER_KWH / 1000)
              if accuracy is not None and energy_kwh else None)
    per_gflop = accuracy / (flops / 1e9) if accuracy is not None and flops else None
    return per_kj, per_gflop


class EfficiencyRace:
    """Train each architecture on the same data with the same settings; compare their cost.

    Fitted: ``results_`` (RACE_COLUMNS, one row per architecture; CO2 on ``country``'s grid),
    ``dataset_`` (the data), ``trainers_`` and ``specs_`` (architecture -> Trainer, build_model spec), ``power_`` (how
    energy was known: ``PowerModel.describe()``) and ``codecarbon_`` (architecture ->
    CodecarbonReading from the tracker run around its training).
    """

    def __init__(self, architectures: Sequence[str] = tuple(ARCHITECTURES),
                 epochs: int = DEFAULT_EPOCHS, lr: float = 0.003, batch_size: int = 64,
                 seed: int = 0, country: str = green.WORLD, check_with_codecarbon: bool = True):
        self.architectures, self.epochs, self.lr = architectures, epochs, lr
        self.batch_size, self.seed, self.country = batch_size, seed, country
        self.check_with_codecarbon = check_with_codecarbon

    def config(self) -> TrainConfig:
        """The one TrainConfig every architecture trains with (ValueError for bad settings)."""
        return TrainConfig(optimizer="adam", lr=self.lr, batch_size=self.batch_size,
                           epochs=int(self.epochs), seed=self.seed, schedule="cosine")

    def check(self, dataset: Dataset) -> TrainConfig:
        """The config, after checking the architectures and country suit ``dataset``."""
        unknown = [a for a in self.architectures if a not in ARCHITECTURES]
        if unknown or not self.architectures:
            raise ValueError(f"Choose architectures from {', '.join(ARCHITECTURES)}; got "
                             f"{list(self.architectures)}.")
        if "CNN" in self.architectures and len(dataset.input_shape) != 3:
            raise ValueError(f"A CNN needs images; {dataset.name} is not an image dataset.")
        if dataset.task != "classification":
            raise ValueError("The race compares test accuracy: choose a classification dataset.")
        green.carbon_intensity(self.country)           # an unknown country says so
        return self.config()

    def fit(self, dataset: Dataset, progress: Callable[[int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> EfficiencyRace:
        """Train the architectures one after the other; ``progress`` counts epochs. A stop
        raises Cancelled(result=self): finished architectures stay in ``results_``."""
        cfg = self.check(dataset)
        names = list(self.architectures)
        total, rows = cfg.epochs * len(names), []
        self.trainers_, self.codecarbon_, self.dataset_ = {}, {}, dataset
        self.specs_ = {name: ARCHITECTURES[name] for name in names}
        self.power_ = green.power_model().describe() if green.enabled() else \
            "Energy is unavailable: measurement is switched off."
        self.results_ = pd.DataFrame(rows, columns=list(RACE_COLUMNS))
        try:
            for i, name in enumerate(names):
                check_stop(should_stop)
                seed_everything(cfg.seed)
                model = build_model(self.specs_[name], dataset)
                trainer = Trainer(model, dataset, cfg)
                tracker = (green.codecarbon_tracker(self.country) if self.check_with_codecarbon
                           else _no_tracker(self.country))
                with tracker as reading:
                    fit_stoppable(trainer, progress_part(progress, i * cfg.epochs, total),
                                  should_stop)
                self.trainers_[name], self.codecarbon_[name] = trainer, reading
                rows.append(self._row(name, trainer, dataset, reading))
                self.results_ = pd.DataFrame(rows, columns=list(RACE_COLUMNS))
        except Cancelled as stop:
            raise Cancelled(result=self) from stop
        return self

    def _row(self, name: str, trainer: Trainer, dataset: Dataset, reading) -> dict:
        spent = trainer.footprint(self.country)
        accuracy = evaluate(trainer.model, dataset)["accuracy"]
        per_kj, per_gflop = efficiency(accuracy, spent.energy_kwh, spent.flops)
        return {"architecture": name, "params": count_parameters(trainer.model),
                "flops": spent.flops, "seconds": trainer.train_seconds,
                "energy_kwh": spent.energy_kwh, "co2_kg": spent.co2_kg,
                "test_accuracy": accuracy, "accuracy_per_kj": per_kj,
                "accuracy_per_gflop": per_gflop, "codecarbon_kwh": reading.energy_kwh,
                "status": trainer.status}

    def table(self, country: str | None = None) -> pd.DataFrame:
        """``results_`` with CO2 for another country's grid (the energy does not change)."""
        table = self.results_.copy()
        if country is not None and len(table):
            table["co2_kg"] = [green.co2_kg(e, country) if pd.notna(e) else None
                               for e in table["energy_kwh"]]
        return table

    def codecarbon_check(self) -> str:
        """How the per-epoch energy compares with codecarbon's own tracker, in a sentence."""
        table = self.results_
        if not len(table) or table["codecarbon_kwh"].isna().all() or table["energy_kwh"].isna().all():
            errors = [r.error for r in self.codecarbon_.values() if r.error]
            return ("codecarbon's own tracker did not run" + (f": {errors[0]}" if errors else "")
                    + ".")
        ours, theirs = table["energy_kwh"].sum(), table["codecarbon_kwh"].sum()
        return (f"codecarbon's own OfflineEmissionsTracker, run around each training, measured "
                f"{green.format_energy(theirs)} in all; the per-epoch sums stored with the runs "
                f"add up to {green.format_energy(ours)} ({ours / theirs:.0%} of it: the tracker "
                "also counts building each model and the last evaluation).")

    def verdict(self) -> str:
        """Which architecture was most accurate, which was most efficient, and at what price."""
        table = self.results_
        if not len(table):
            return "No architecture finished training; there is nothing to compare."
        best = table.loc[table["test_accuracy"].idxmax()]
        text = (f"Most accurate: the {best['architecture']} ({best['test_accuracy']:.1%}), after "
                f"{green.format_flops(best['flops'])} and {green.format_energy(best['energy_kwh'])}.")
        key = "accuracy_per_kj" if table["accuracy_per_kj"].notna().all() else "accuracy_per_gflop"
        if len(table) < 2 or table[key].isna().all():
            return text
        lean = table.loc[table[key].idxmax()]
        unit = "per kJ" if key == "accuracy_per_kj" else "per GFLOP"
        if lean["architecture"] == best["architecture"]:
            return text + f" It was also the most accurate {unit}: no trade-off this time."
        extra = 100 * (best["test_accuracy"] - lean["test_accuracy"])
        costs = [f"{times(best[k] / lean[k])} the {what}" for k, what in
                 (("energy_kwh", "energy"), ("flops", "FLOPs"))
                 if pd.notna(best[k]) and pd.notna(lean[k]) and lean[k] > 0]
        return text + (f" Most accuracy {unit}: the {lean['architecture']} "
                       f"({lean['test_accuracy']:.1%}). The {best['architecture']}'s extra "
                       f"{extra:.1f} points cost {' and '.join(costs) or 'more'}.")

    def flops_against_energy(self) -> str:
        """When FLOPs and energy rank two architectures differently, say so with their numbers
        ('' when they agree or energy is unavailable): FLOPs count arithmetic, energy also
        counts how well this hardware runs it."""
        rows = [r for r in self.results_.itertuples()
                if pd.notna(r.flops) and pd.notna(r.energy_kwh) and r.flops > 0]
        pairs = [(a, b) for a in rows for b in rows
                 if a.flops < b.flops and a.energy_kwh > b.energy_kwh]
        if not pairs:
            return ""
        a, b = max(pairs, key=lambda p: (p[1].flops / p[0].flops)
                   * (p[0].energy_kwh / p[1].energy_kwh))
        return (f"FLOPs and energy disagree here: the {a.architecture} did "
                f"{times(b.flops / a.flops)} fewer FLOPs than the {b.architecture} but used "
                f"{times(a.energy_kwh / b.energy_kwh)} its energy ({a.seconds:.1f} s against "
                f"{b.seconds:.1f} s). FLOPs count the arithmetic; energy also counts how well "
                "this hardware runs it (small convolutions keep a CPU far below its peak).")

    def __repr__(self) -> str:
        return (f"EfficiencyRace(architectures={list(self.architectures)}, epochs={self.epochs}, "
                f"lr={self.lr}, batch_size={self.batch_size}, seed={self.seed}, "
                f"country={self.country!r})")


class _no_tracker:  # noqa: N801 - a stand-in context manager for codecarbon_tracker
    def __init__(self, country: str):
        self.reading = green.CodecarbonReading(country, error="switched off")

    def __enter__(self):
        return self.reading

    def __exit__(self, *exc):
        return False


# ---- runs from the run store ------------------------------------------------------------------------
def runs_footprint(table: pd.DataFrame, country: str = green.WORLD) -> pd.DataFrame:
    """A ``RunStore.list()`` frame's runs that carry FLOPs or energy: name, lesson, dataset,
    FLOPs, energy, CO2 on ``country``'s grid and test accuracy, newest first."""
    columns = ["id", "name", "lesson", "dataset", "flops", "energy_kwh", "co2_kg",
               "test_accuracy"]
    if table.empty or not {"flops", "energy_kwh"} & set(table.columns):
        return pd.DataFrame(columns=columns)
    table = table.reindex(columns=sorted(set(table.columns) | set(columns)))
    kept = table[table["flops"].notna() | table["energy_kwh"].notna()].copy()
    kept["co2_kg"] = [green.co2_kg(e, country) if pd.notna(e) else None
                      for e in kept["energy_kwh"]]
    return kept[columns].reset_index(drop=True)


# ---- perspective: Strubell, Ganesh and McCallum (2019) --------------------------------------------------
STRUBELL_SOURCE = ("Strubell, E., Ganesh, A. and McCallum, A. (2019). Energy and Policy "
                   "Considerations for Deep Learning in NLP. ACL 2019, Table 1: estimated CO2 "
                   "emissions in pounds of CO2-equivalent (lbs CO2e).")
# (what, lbs CO2e, kind): their Table 1, as published in the ACL 2019 version
STRUBELL_2019 = (
    ("Air travel, 1 passenger, New York to San Francisco and back", 1_984, "everyday"),
    ("Human life, average, 1 year", 11_023, "everyday"),
    ("American life, average, 1 year", 36_156, "everyday"),
    ("Car, average including fuel, 1 lifetime", 126_000, "everyday"),
    ("Training an NLP pipeline (parsing, SRL)", 39, "training"),
    ("The NLP pipeline with tuning and experiments", 78_468, "training"),
    ("Training a Transformer (big)", 192, "training"),
    ("The Transformer (big) with neural architecture search", 626_155, "training"),
)
STRUBELL_LBS_PER_KWH = 0.954   # their conversion: the U.S. EPA's average for 2018 (Eq. 2)
STRUBELL_PUE = 1.58            # their data-centre overhead (power usage effectiveness, Eq. 1)
KG_PER_LB = 0.45359237


def strubell_table() -> pd.DataFrame:
    """Their figures in their unit (lbs CO2e) and in kg; for the training rows, the energy their
    own conversion implies (lbs / 0.954 lbs per kWh, data-centre overhead included)."""
    rows = [{"what": what, "kind": kind, "lbs_co2e": lbs, "kg_co2e": lbs * KG_PER_LB,
             "energy_kwh": lbs / STRUBELL_LBS_PER_KWH if kind == "training" else None}
            for what, lbs, kind in STRUBELL_2019]
    return pd.DataFrame(rows)


def perspective(co2_kg: float | None, energy_kwh: float | None) -> pd.DataFrame:
    """Strubell et al.'s rows with how many runs like this one each amounts to (by CO2, and by
    energy for their training rows: theirs used the U.S. grid, so energy compares more fairly)."""
    table = strubell_table()
    table["runs_by_co2"] = [kg / co2_kg if co2_kg else None for kg in table["kg_co2e"]]
    table["runs_by_energy"] = [e / energy_kwh if energy_kwh and e else None
                               for e in table["energy_kwh"]]
    return table


def perspective_sentence(co2_kg: float | None, energy_kwh: float | None, what: str) -> str:
    """One sentence putting ``what`` (e.g. "this race") next to the largest published figure."""
    row = strubell_table().iloc[-1]
    if energy_kwh:
        return (f"{row['what']} took about {row['energy_kwh']:,.0f} kWh by Strubell et al.'s own "
                f"conversion ({row['lbs_co2e']:,} lbs CO2e at {STRUBELL_LBS_PER_KWH} lbs per kWh):"
                f" {times(row['energy_kwh'] / energy_kwh)} the energy of {what}.")
    if co2_kg:
        return (f"{row['what']} emitted about {row['kg_co2e'] / 1000:,.0f} t CO2e: "
                f"{times(row['kg_co2e'] / co2_kg)} {what}.")
    return f"The energy of {what} is unavailable, so it cannot be put next to published figures."


# ---- tables for people ------------------------------------------------------------------------------
def _number(value, fmt: str) -> str:
    return "-" if value is None or pd.isna(value) else fmt.format(value)


def formatted_results(table: pd.DataFrame) -> pd.DataFrame:
    """The race's table as text a person reads: units, no raw NaN (a dash where unmeasured)."""
    return pd.DataFrame({
        "architecture": table["architecture"],
        "parameters": [f"{int(v):,}" for v in table["params"]],
        "training FLOPs": [green.format_flops(v) for v in table["flops"]],
        "seconds": [_number(v, "{:.1f}") for v in table["seconds"]],
        "energy": [green.format_energy(v) for v in table["energy_kwh"]],
        "CO2e": [green.format_co2(v) for v in table["co2_kg"]],
        "test accuracy": [_number(v, "{:.1%}") for v in table["test_accuracy"]],
        "accuracy per kJ": [_number(v, "{:,.3g}") for v in table["accuracy_per_kj"]],
        "accuracy per GFLOP": [_number(v, "{:,.3g}") for v in table["accuracy_per_gflop"]],
    })


def formatted_runs(table: pd.DataFrame) -> pd.DataFrame:
    """``runs_footprint`` as text: run id, name, lesson, data, FLOPs, energy, CO2e, accuracy."""
    return pd.DataFrame({
        "run": [f"{int(v)}" for v in table["id"]], "name": table["name"],
        "lesson": table["lesson"], "data": table["dataset"],
        "training FLOPs": [green.format_flops(v) for v in table["flops"]],
        "energy": [green.format_energy(v) for v in table["energy_kwh"]],
        "CO2e": [green.format_co2(v) for v in table["co2_kg"]],
        "test accuracy": [_number(v, "{:.1%}") for v in table["test_accuracy"]],
    })


def formatted_perspective(table: pd.DataFrame) -> pd.DataFrame:
    """``perspective`` as text: their figure in lbs and kg, and how many runs like yours."""
    return pd.DataFrame({
        "what (Strubell et al. 2019)": table["what"],
        "lbs CO2e (theirs)": [f"{v:,}" for v in table["lbs_co2e"]],
        "CO2e": [green.format_co2(v) for v in table["kg_co2e"]],
        "energy (their conversion)": [green.format_energy(v) if pd.notna(v) else "-"
                                      for v in table["energy_kwh"]],
        "= runs like yours (CO2)": [count_words(v) for v in table["runs_by_co2"]],
        "= runs like yours (energy)": [count_words(v) for v in table["runs_by_energy"]],
    })
