"""Model cards: what a model is, how it was made and measured, and where it should not be used.

``model_card(entry)`` writes the card of a workspace model (nnplay.train.workspace.WorkspaceModel,
or anything with its ``record``, ``model``, ``dataset`` and ``findings``) in Markdown, with the
sections of Mitchell et al. (2019), "Model Cards for Model Reporting", under a Hugging Face
model-card YAML header (license, library_name, tags, datasets, metrics, and a model-index with the
measured test results). Everything comes from what nnplay knows: the spec and parameter count,
the TrainConfig and history, test metrics computed now on the model's test split
(nnplay.evaluation), the dataset reference, and what later lessons measured on the model
(``findings``: bias_audit, robustness, compression, export, monitoring). What was not measured says so and
names the lesson that measures it.

Names a person chose (models, uploaded files, columns, classes) are escaped: ``md`` for the
Markdown body (HTML and Markdown syntax shown as text, newlines folded) and ``yaml_scalar`` for
the header (double-quoted, with ``<``, ``>``, ``&``, ``[`` and ``]`` as escapes), so no name
can add HTML, links or sections, or break out of the YAML.
"""

from __future__ import annotations

import html
import json
import math
import re
from datetime import datetime, timezone

import numpy as np

from nnplay.production.export import difference_text

SECTIONS = ("Model details", "Intended use", "Factors", "Metrics", "Evaluation data",
            "Training data", "Quantitative analyses", "Ethical considerations",
            "Caveats and recommendations")
LICENSES = ("other", "apache-2.0", "mit", "cc-by-4.0", "cc-by-nc-4.0")
LESSON_TITLES = {"bias_audit": "Bias audit", "robustness": "Robustness",
                 "compression": "Compression", "export": "Export", "monitoring": "Monitoring"}
# Hugging Face task ids by (input kind, task)
TASK_TYPES = {("tabular", "classification"): "tabular-classification",
              ("tabular", "regression"): "tabular-regression",
              ("image", "classification"): "image-classification",
              ("tokens", "classification"): "text-classification",
              ("per-token", "classification"): "token-classification",
              ("sequence", "regression"): "time-series-forecasting"}
HEADLINE = {"classification": ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc",
                               "log_loss"),
            "regression": ("mae", "rmse", "r2")}


def unknown(lesson: str) -> str:
    """The marker for what was not measured, naming the lesson that measures it."""
    return (f"Unknown / not measured (run the {LESSON_TITLES.get(lesson, lesson)} lesson on "
            "this model)")


# ---- escaping ------------------------------------------------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#|~$])")


def md(text) -> str:
    """``text`` as inert Markdown: one line, HTML shown as text, Markdown syntax escaped."""
    line = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", html.escape(line, quote=False))


def yaml_scalar(value) -> str:
    """A YAML scalar: numbers and booleans as they are, text double-quoted with escapes."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = json.dumps(str(value), ensure_ascii=True)   # JSON strings are YAML double-quoted
    # no HTML and no Markdown links, even where the header is shown as Markdown
    return text.translate({ord(c): f"\\u{ord(c):04x}" for c in "<>&[]"})


def to_yaml(value, indent: int = 0) -> list[str]:
    """Block-style YAML lines for dicts (keys are ours: plain words), lists and scalars."""
    pad, lines = " " * indent, []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines += [f"{pad}{key}:", *to_yaml(item, indent + 2)]
            else:
                lines.append(f"{pad}{key}: {'[]' if item == [] else yaml_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and item:
                inner = to_yaml(item, indent + 2)
                lines += [f"{pad}- {inner[0].lstrip()}", *inner[1:]]
            else:
                lines.append(f"{pad}- {yaml_scalar(item)}")
    return lines


# ---- measuring -----------------------------------------------------------------------------------
def test_metrics(model, dataset) -> dict:
    """The model's metrics on its dataset's test split, from nnplay.evaluation.metrics.

    Classification: accuracy, balanced accuracy, precision/recall/F1, ROC AUC, log loss (one row
    per token for per-token targets); regression: MAE, MSE, RMSE, R². ValueError when the model
    outputs NaN (it diverged).
    """
    from nnplay.evaluation import metrics
    from nnplay.train import predict, predict_proba

    if dataset.task == "classification":
        proba = predict_proba(model, dataset.X_test)
        if not np.all(np.isfinite(proba)):
            raise ValueError("The model outputs NaN (its training diverged), so it has no test "
                             "metrics; train it again with a lower learning rate.")
        return metrics.classification_metrics(np.ravel(dataset.y_test),
                                               proba.reshape(-1, proba.shape[-1]))
    return metrics.regression_metrics(dataset.y_test,
                                      predict(model, dataset.X_test, task="regression"))


def input_kind(dataset) -> str:
    """'tokens', 'image', 'sequence' or 'tabular'."""
    ndim = len(dataset.input_shape)
    if np.asarray(dataset.X_train).dtype.kind in "iu":
        return "tokens"
    return {1: "tabular", 3: "image"}.get(ndim, "sequence")


def card_metadata(entry, metrics: dict, license: str = "other") -> dict:  # noqa: A002
    """The Hugging Face YAML header as a dict: license, library_name, tags, datasets, metrics
    and a model-index holding the test metrics."""
    ds = entry.dataset
    kind = "per-token" if np.ndim(ds.y_test) == 2 and ds.task == "classification" \
        else input_kind(ds)
    task_type = TASK_TYPES.get((kind, ds.task), "other")
    shown = {k: metrics[k] for k in HEADLINE[ds.task] if metrics.get(k) is not None
             and math.isfinite(metrics[k])}
    dataset_name = entry.record.dataset.name
    return {
        "license": license if license in LICENSES else "other",
        "library_name": "pytorch",
        "tags": ["nnplay", entry.record.spec.family, task_type, f"lesson-{entry.record.lesson}"],
        "datasets": [dataset_name],
        "metrics": list(shown),
        "model-index": [{
            "name": entry.record.name,
            "results": [{
                "task": {"type": task_type, "name": task_type.replace("-", " ").capitalize()},
                "dataset": {"name": dataset_name, "type": dataset_name, "split": "test",
                            "config": entry.record.dataset.source},
                "metrics": [{"type": k, "value": round(float(v), 6),
                             "name": f"Test {k.replace('_', ' ')}"} for k, v in shown.items()],
            }],
        }],
    }


def model_card(entry, metrics: dict | None = None, extra: dict | None = None,
               license: str = "other", intended_use: str = "") -> str:  # noqa: A002
    """The model card of ``entry`` as Markdown with its YAML header.

    ``metrics``: test metrics already computed (default: ``test_metrics`` now; a model that
    diverged gets a card that says so). ``extra``: findings by lesson id to add or replace
    (e.g. {"export": {...}} from a script). ``intended_use``: the person's own words for the
    Intended use section (escaped). ``license``: one of LICENSES.
    """
    error = ""
    if metrics is None:
        try:
            metrics = test_metrics(entry.model, entry.dataset)
        except ValueError as err:
            metrics, error = {}, str(err)
    findings = {**dict(getattr(entry, "findings", {}) or {}), **dict(extra or {})}
    header = to_yaml(card_metadata(entry, metrics, license))
    facts = _Facts(entry, metrics, findings, error, license, intended_use)
    body = [f"# Model card: {md(entry.record.name)}", "",
            f"_Written by nnplay on {datetime.now(timezone.utc):%Y-%m-%d} from what this session "
            "knows about the model. The sections follow Mitchell et al. (2019), \"Model Cards for "
            "Model Reporting\"._", ""]
    for title, write in zip(SECTIONS, _WRITERS):
        body += [f"## {title}", "", *write(facts), ""]
    return "\n".join(["---", *header, "---", "", *body]).rstrip() + "\n"


def split_card(card: str) -> tuple[str, str]:
    """(YAML header without its --- lines, Markdown body) of a card made by ``model_card``."""
    if not card.startswith("---\n"):
        return "", card
    end = card.index("\n---\n", 4)
    return card[4:end], card[end + 5:].lstrip("\n")


# ---- formatting ----------------------------------------------------------------------------------
FAMILY_NAMES = {"mlp": "multilayer perceptron", "cnn": "convolutional neural network",
                "rnn": "recurrent network (plain RNN cells)", "lstm": "recurrent network (LSTM)",
                "gru": "recurrent network (GRU)", "transformer": "Transformer encoder"}
METRIC_MEANINGS = {
    "accuracy": "share of test rows labelled correctly",
    "balanced_accuracy": "mean recall over the classes (robust to class imbalance)",
    "precision_macro": "precision averaged over the classes", "recall_macro":
    "recall averaged over the classes", "f1_macro": "F1 averaged over the classes",
    "precision_weighted": "precision weighted by class size", "recall_weighted":
    "recall weighted by class size", "f1_weighted": "F1 weighted by class size",
    "roc_auc": "ranking quality of the probabilities (one-vs-rest for many classes)",
    "log_loss": "cross-entropy of the probabilities (lower is better)",
    "mae": "mean absolute error", "mse": "mean squared error",
    "rmse": "root mean squared error, in the target's units", "r2": "share of variance explained"}
MAX_LISTED = 12
MAX_COLUMNS = 10   # a wider table does not read in a card


def _num(value) -> str:
    """A number for a person: 4 significant digits, thousands separated, no nan/None."""
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "not available"}[value]
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}" if math.isfinite(value) else "not available"
    return md(value)


def _kb(n: int) -> str:
    return f"{n / 1000:,.1f} kB"


def _names(values) -> str:
    values = [md(v) for v in values]
    more = f" and {len(values) - MAX_LISTED} more" if len(values) > MAX_LISTED else ""
    return ", ".join(values[:MAX_LISTED]) + more if values else "none"


def _table(rows: list[dict], columns: list[str] | None = None) -> list[str]:
    """A Markdown table of dicts; every header and cell escaped or formatted."""
    rows = [r for r in rows if isinstance(r, dict)][:50]
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    if not rows or not columns:
        return ["(no rows)"]
    more = ["", f"{len(columns) - MAX_COLUMNS} more columns are shown in the lesson."] \
        if len(columns) > MAX_COLUMNS else []
    columns = columns[:MAX_COLUMNS]
    return [" | ".join(["", *(md(str(c).replace("_", " ")) for c in columns), ""]).strip(),
            "|" + "---|" * len(columns),
            *(" | ".join(["", *(_num(r.get(c)) for c in columns), ""]).strip() for r in rows),
            *more]


def _pivot(rows: list[dict], row_key: str, col_key: str, value: str) -> list[str]:
    """A long table (one row per pair) as a wide Markdown table: rows by row_key."""
    cols = list(dict.fromkeys(r.get(col_key) for r in rows))
    wide: dict = {}
    for r in rows:
        wide.setdefault(r.get(row_key), {row_key: r.get(row_key)})[f"{col_key} {_num(r.get(col_key))}"] = r.get(value)
    return _table(list(wide.values()), [row_key, *(f"{col_key} {_num(c)}" for c in cols)])


def _block(finding: dict) -> list[str]:
    """Any JSON-able finding: numbers and text as bullets, lists of rows as tables."""
    lines, tables = [], []
    for key, value in finding.items():
        title = md(str(key).replace("_", " "))
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables += ["", f"**{title.capitalize()}**", "", *_table(value)]
        elif isinstance(value, dict):
            inner = ", ".join(f"{md(k)} {_num(v)}" for k, v in value.items()
                              if not isinstance(v, (dict, list)))
            lines.append(f"- **{title}:** {inner or 'see the lesson'}")
        elif isinstance(value, list):
            lines += [f"- **{title}:** {'none' if not value else ''}".rstrip(),
                      *(f"  - {_num(v)}" for v in value[:MAX_LISTED])]
        else:
            lines.append(f"- **{title}:** {_num(value)}")
    return lines + tables


class _Facts:
    """Everything a section needs, read once."""

    def __init__(self, entry, metrics, findings, error, license, intended_use):  # noqa: A002
        self.entry, self.metrics, self.findings, self.error = entry, metrics, findings, error
        self.license, self.intended_use = license, intended_use
        self.record, self.ds = entry.record, entry.dataset
        self.cfg, self.history = entry.record.train_config, list(entry.record.history)
        self.sensitive = list(self.ds.extra.get("sensitive_columns") or [])

    def finding(self, lesson: str) -> dict | None:
        value = self.findings.get(lesson)
        return value if isinstance(value, dict) and value else None


# ---- the nine sections -----------------------------------------------------------------------------
def _model_details(f: _Facts) -> list[str]:
    import torch

    import nnplay

    r, model = f.record, f.entry.model
    n = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    made = {"upload": "uploaded to nnplay (trained elsewhere or in an earlier session)",
            "cli": "nnplay's command line", "notebook": "a notebook using nnplay"}.get(
        r.lesson, f"a learner in nnplay's {md(r.lesson.replace('_', ' '))} lesson")
    settings = ", ".join(f"{md(k)} = {md(json.dumps(v))}" for k, v in r.spec.params.items())
    lines = [f"- **Name:** {md(r.name)}", f"- **Made by:** {made}",
             f"- **Date:** {datetime.fromtimestamp(r.created, timezone.utc):%Y-%m-%d %H:%M} UTC",
             f"- **Model type:** {FAMILY_NAMES.get(r.spec.family, md(r.spec.family))} for "
             f"{f.ds.task} of {input_kind(f.ds)} data; settings: {settings or 'the defaults'}",
             f"- **Parameters:** {n:,} ({trainable:,} trainable), "
             f"{_kb(sum(p.numel() * p.element_size() for p in model.parameters()))} of weights",
             f"- **Framework:** PyTorch {torch.__version__.split('+')[0]}, nnplay "
             f"{nnplay.__version__}", f"- **License:** {md(f.license)}",
             f"- **How training ended:** {r.status.replace('_', ' ')}"]
    spent = f.history[-1] if f.history else {}   # the Trainer's FLOPs and energy totals
    if spent.get("flops") is not None or spent.get("energy_kwh") is not None:
        from nnplay.train.green import footprint_line

        line = footprint_line(spent.get("flops"), spent.get("energy_kwh"))
        lines.append(f"- **Training footprint:** {md(line)}")
    lines += ["", "### Training", ""]
    if f.cfg is None:
        return lines + ["- Unknown / not recorded: this model was not trained by nnplay's "
                        "Trainer in this session (for example, it was uploaded)."]
    c = f.cfg
    lines += [f"- **Optimizer:** {c.optimizer}, learning rate {_num(c.lr)}, schedule "
              f"{c.schedule}, batch size {'full batch' if c.batch_size == 0 else c.batch_size}",
              f"- **Regularisation:** L1 {_num(c.l1)}, L2 {_num(c.l2)}; early stopping "
              + (f"after {c.early_stopping} epochs without improvement of "
                 f"{md(c.early_stopping_monitor)}" if c.early_stopping else "off"),
              "- **Validation:** " + (f"{c.val_fraction:.0%} of the training rows held out"
                                       if c.val_fraction else "the test split"),
              f"- **Seed:** {c.seed}"]
    losses = [h.get("val_loss") for h in f.history]
    if not f.history:
        return lines + ["- **History:** Unknown / not recorded"]
    last = f.history[-1]
    finite = [(v, i) for i, v in enumerate(losses) if isinstance(v, (int, float))
              and math.isfinite(v)]
    best = f.history[min(finite)[1]].get("epoch", min(finite)[1] + 1) if finite else None
    return lines + [f"- **Epochs:** {len(f.history)} run of {c.epochs} planned; best epoch "
                    f"by validation loss: {_num(best)}",
                    f"- **Final losses:** training {_num(last.get('loss'))}, validation "
                    f"{_num(last.get('val_loss'))}"]


def _intended_use(f: _Facts) -> list[str]:
    own = md(f.intended_use) if f.intended_use.strip() else (
        f"Learning how a {FAMILY_NAMES.get(f.record.spec.family, 'network')} behaves on "
        f"{md(f.record.dataset.label)}: inspecting, evaluating, auditing and exporting it.")
    return [f"- **Primary intended uses:** {own}",
            "- **Primary intended users:** learners and teachers using nnplay.",
            "- **Out-of-scope uses:** decisions about people (credit, hiring, health, justice) "
            "and any production use: the model was trained in a teaching app and has not been "
            "validated for deployment."]


def _factors(f: _Facts) -> list[str]:
    bias, rob = f.finding("bias_audit"), f.finding("robustness")
    groups = (f"groups by {_names(bias.get('sensitive') or [])} (favourable outcome: "
              f"{md(bias.get('favourable', 'not recorded'))})" if bias else unknown("bias_audit"))
    damage = ", ".join(k.replace("_", " ") for k in ("corruptions", "attacks", "tabular")
                       if rob and rob.get(k))
    return [f"- **Input:** {input_kind(f.ds)} data shaped {md(list(f.ds.input_shape))}",
            f"- **Sensitive attributes in the data:** {_names(f.sensitive)}",
            f"- **Groups evaluated:** {groups}",
            f"- **Conditions evaluated:** {damage or unknown('robustness')}"]


def _metrics(f: _Facts) -> list[str]:
    keys = [k for k in HEADLINE[f.ds.task]]
    bias = f.finding("bias_audit")
    return ["- **Performance measures:** " + "; ".join(f"{k.replace('_', ' ')}: "
                                                       f"{METRIC_MEANINGS[k]}" for k in keys),
            "- **Decision threshold:** " + ("the most probable class" if f.ds.task ==
                                            "classification" else "none (a value is predicted)"),
            "- **Variation:** " + ("bootstrap 95% intervals of the fairness gaps (Bias audit)"
                                   if bias and bias.get("intervals") else
                                   "one test split, no confidence intervals")]


def _evaluation_data(f: _Facts) -> list[str]:
    return [f"- **Data:** the test split of {md(f.record.dataset.label)}: {f.ds.n_test:,} rows, "
            "held out before training, with the training split's preprocessing"]


def _training_data(f: _Facts) -> list[str]:
    ref, ds = f.record.dataset, f.ds
    source = {"registry": "nnplay's data registry", "upload": "a CSV file uploaded by the "
              f"person (SHA-256 {md(ref.sha256) or 'not recorded'})",
              "custom": "data built in memory"}[ref.source]
    lines = [f"- **Data:** {md(ref.label)}, from {source}",
             f"- **Rows:** {ds.n_train:,} for training",
             f"- **Features ({ds.n_features:,}):** {_names(ds.feature_names)}",
             "- **Target:** " + (f"{len(ds.class_names or [])} classes: "
                                 f"{_names(ds.class_names or [])}" if ds.task == "classification"
                                 else "a number (regression)")]
    if ref.params:
        lines.append(f"- **Loaded with:** {md(json.dumps(ref.params, sort_keys=True))}")
    steps = list(ref.preprocessing.get("steps_taken") or []) + [json.dumps(s) for s in ref.steps]
    lines += [f"- **Preprocessing:** {md(s)}" for s in steps[:MAX_LISTED]]
    if ds.description:
        lines.append(f"- **About the data:** {md(ds.description)}")
    return lines


def _bias_lines(bias: dict) -> list[str]:
    gaps = bias.get("gaps") or {}
    intervals = bias.get("intervals") or {}
    rows = [{"gap": k.replace("_", " "), "estimate": v, **({"low": intervals[k][0], "high": intervals[k][1]}
                                          if len(intervals.get(k) or []) == 2 else {})}
            for k, v in gaps.items()]
    return [f"Audited by {_names(bias.get('sensitive') or [])} on {_num(bias.get('n_rows'))} test "
            f"rows; favourable outcome: {md(bias.get('favourable', 'not recorded'))}.", "",
            *_table(bias.get("by_group") or []), "", *_table(rows),
            *(["", md(bias["verdict"])] if bias.get("verdict") else [])]


def _quantitative(f: _Facts) -> list[str]:
    lines = ["### Test metrics", ""]
    if f.metrics:
        lines += _table([{"metric": k.replace("_", " "), "value": v}
                         for k, v in f.metrics.items()])
    else:
        lines.append(f"Could not be measured: {md(f.error or 'no test metrics')}")
    bias, rob = f.finding("bias_audit"), f.finding("robustness")
    lines += ["", "### Per group", ""] + (_bias_lines(bias) if bias else [unknown("bias_audit")])
    lines += ["", "### Robustness", ""]
    if rob:
        lines.append(f"Accuracy on {_num(rob.get('n_rows'))} test rows as the damage grows.")
        for key, row, col in (("corruptions", "corruption", "severity"),
                              ("attacks", "method", "eps")):
            if rob.get(key):
                lines += ["", *_pivot(rob[key], row, col, "accuracy")]
        if rob.get("tabular"):   # noise and missing values have different levels: long form
            lines += ["", *_table(rob["tabular"], ["damage", "level", "accuracy"])]
    else:
        lines.append(unknown("robustness"))
    comp = f.finding("compression")
    lines += ["", "### Compression", "", *(_block(comp) if comp else [unknown("compression")])]
    watch = f.finding("monitoring")
    lines += ["", "### Monitoring (a simulated production stream)", "",
              *(_block(watch) if watch else [unknown("monitoring")])]
    lines += ["", "### Export", ""]
    exported = f.finding("export")
    if not exported:
        return lines + [unknown("export")]
    rows, failed = [], []
    for fmt, res in exported.items():
        if isinstance(res, dict) and res.get("error"):
            failed.append(f"- {md(fmt)}: {md(res['error'])}")
        elif isinstance(res, dict):
            rows.append({"format": fmt, "size": _kb(int(res.get("size_bytes") or 0)),
                         "max abs difference": difference_text(res.get("max_abs_diff") or 0.0),
                         "batch sizes checked": ", ".join(str(c.get("batch"))
                                                          for c in res.get("checks") or []),
                         "verified": bool(res.get("verified"))})
    return lines + (["Each file was loaded back and run on test rows against PyTorch "
                     "(tolerance 1e-4).", "", *_table(rows)] if rows else []) + failed


def _ethics(f: _Facts) -> list[str]:
    bias = f.finding("bias_audit")
    data = (f"The data holds sensitive attributes ({_names(f.sensitive)}); a model trained on it "
            "can learn to treat those groups differently." if f.sensitive else
            "No sensitive attributes are recorded with this data, so unequal treatment of "
            "groups cannot be checked with it.")
    if bias:
        gaps = bias.get("gaps") or {}
        audit = (f"Demographic parity difference {_num(gaps.get('demographic_parity_difference'))}"
                 f", ratio {_num(gaps.get('demographic_parity_ratio'))}, equalized odds "
                 f"difference {_num(gaps.get('equalized_odds_difference'))}.")
    else:
        audit = unknown("bias_audit")
    provenance = ("The person who uploaded the file answers for its consent and licence."
                  if f.record.dataset.source == "upload" else
                  "The data comes with nnplay or the libraries it uses; see its description.")
    return [f"- **Sensitive data:** {data}", f"- **Fairness:** {audit}",
            f"- **Provenance:** {provenance}",
            "- **Risks:** wrong predictions are certain at the error rates above; a person "
            "should be able to contest any decision a model like this informs."]


def _caveats(f: _Facts) -> list[str]:
    lines = []
    acc = f.metrics.get("accuracy")
    if acc is not None and f.ds.n_test < 500:
        margin = 1.96 * math.sqrt(max(acc * (1 - acc), 1e-12) / max(f.ds.n_test, 1))
        lines.append(f"- The test split has {f.ds.n_test:,} rows: the accuracy is known to about "
                     f"±{margin:.1%} (95% interval).")
    if f.record.status in ("diverged", "stopped", "paused"):
        lines.append(f"- Training {f.record.status}: the model may be far from what this "
                     "network can do.")
    if f.cfg is not None and not f.cfg.val_fraction:
        lines.append("- The test split also served as validation during training (the loss "
                     "curves" + (" and early stopping" if f.cfg.early_stopping else "")
                     + "), so the test numbers are slightly optimistic.")
    missing = [LESSON_TITLES[k] for k in LESSON_TITLES if not f.finding(k)]
    if missing:
        lines.append(f"- Not measured on this model yet: {', '.join(missing)}.")
    return lines + ["- Trained in a teaching app with small data and default settings: retrain "
                    "and validate on data from the setting where it would be used."]


_WRITERS = (_model_details, _intended_use, _factors, _metrics, _evaluation_data,
            _training_data, _quantitative, _ethics, _caveats)
