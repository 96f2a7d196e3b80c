"""The bias audit lesson's setup: the data sets with sensitive columns it offers and the network
it trains on the spot, so a learner who opens the page sees an audit within seconds. The audit
itself is the shared concept ``nnplay.responsible.fairness``."""

from __future__ import annotations

from nnplay.data.dataset import Dataset
from nnplay.models.registry import ModelSpec
from nnplay.train.config import TrainConfig

BUNDLED = ("german_credit", "titanic")
HIDDEN_CHOICES = ("16", "32,16", "64,32")
DEFAULT_HIDDEN = "32,16"
EPOCHS = 20
# Small batches: the default network then shows the gaps the audit is about (german_credit, sex:
# a demographic parity difference of 0.17 at seed 0), which mitigation can then close.
CONFIG = TrainConfig(optimizer="adam", lr=0.01, batch_size=32, epochs=EPOCHS, seed=0)


def spec_for(hidden: str = DEFAULT_HIDDEN) -> ModelSpec:
    """An MLP with the hidden layers written as "32,16"."""
    return ModelSpec("mlp", {"hidden": [int(h) for h in hidden.split(",")], "activation": "relu"})


def auditable(dataset: Dataset) -> bool:
    """Whether the data carries sensitive columns, row-aligned with its splits, to audit by."""
    return "sensitive_train" in dataset.extra and "sensitive_test" in dataset.extra


def finding(audit, columns: list[str], favourable: str) -> dict:
    """What the model card keeps of an audit (Workspace.add_finding): per-group metrics, the
    three gaps with their bootstrap intervals, and the four-fifths verdict."""
    by_group = [{"group": str(group), **row} for group, row in
                audit.by_group.to_dict("index").items()]
    intervals = {} if audit.intervals is None else {
        gap: [float(row["low"]), float(row["high"])]
        for gap, row in audit.intervals.to_dict("index").items()}
    verdict, sentence = audit.four_fifths_verdict()
    return {"sensitive": list(columns), "favourable": str(favourable),
            "n_rows": int(sum(row["count"] for row in by_group)), "by_group": by_group,
            "gaps": {gap: float(getattr(audit, gap)) for gap in
                     ("demographic_parity_difference", "demographic_parity_ratio",
                      "equalized_odds_difference")},
            "intervals": intervals, "four_fifths": verdict, "verdict": sentence}


def retrain_config(config: TrainConfig | None) -> TrainConfig:
    """How reweighing retrains: as the model was trained, or the page's default."""
    return config or CONFIG
