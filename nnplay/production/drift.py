"""Data drift: has a column's distribution moved away from the data the model learned from?

One test per column, chosen the way Evidently chooses by default (its registry's
``_get_default_stattest`` and ``infer_column_type``, checked against its source, version 0.7):

- a column's kind: float columns are numerical; integer columns with at most 10 distinct values,
  and booleans, text and categories, are categorical;
- a numerical column with at most 5 distinct values (reference and current together) is tested
  as a categorical one;
- reference of up to 1,000 rows: statistical tests with p < 0.05 as the alarm:
  Kolmogorov-Smirnov (numerical), chi-squared goodness of fit against the reference's shares
  (categorical, 3+ values), a two-proportion z-test (two values);
- larger reference: distances with 0.1 as the alarm: Wasserstein distance divided by the
  reference's standard deviation (numerical), Jensen-Shannon distance (categorical, and
  numerical columns with few values).

Why switch: a p-value answers "could this be chance?", and with tens of thousands of rows the
answer is "no" for shifts too small to matter, so KS alarms on everything. A distance answers
"how far did it move?", but on a hundred rows chance alone moves it past 0.1. PSI, the credit
scoring industry's index, is reported beside every test with its usual bands (below 0.1 stable,
0.1 to 0.25 moderate, 0.25 and above a major shift). A dataset drifts when at least ``share``
(default half) of its columns do. Missing and infinite values are left out of every test.

Evidently's chi-squared is a goodness-of-fit test that takes the reference's shares as exact; it
keeps its 5% false-alarm rate when the reference is much larger than the current sample, and
alarms more often (about 20% for two samples of 200 rows) when it is not. This module keeps
Evidently's test so its verdicts match, and says so where it is shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

SMALL_REFERENCE_MAX = 1000    # reference rows up to which p-value tests are used
INTEGER_CATEGORY_MAX = 10     # an integer column with at most this many values is categorical
FEW_VALUES_MAX = 5            # a numerical column with at most this many values is tested as categories
P_VALUE_THRESHOLD = 0.05
DISTANCE_THRESHOLD = 0.1
DRIFT_SHARE = 0.5             # a dataset drifts when at least this share of its columns do
PSI_BANDS = (0.1, 0.25)       # stable below the first, major at or above the second
PSI_BINS = 10                 # reference deciles for a numerical column's PSI
PSI_FLOOR = 1e-4              # an empty bin's share, so the logarithm stays finite
KS_EXACT_MAX = 1_000_000      # KS p-values exact (scipy's default) up to this n_ref * n_cur;
                              # beyond, the asymptotic one: 10x faster, equal to 3 digits there
KINDS = ("numerical", "categorical")
TESTS = {   # name -> (what a person reads, whether it gives a p-value)
    "ks": ("Kolmogorov-Smirnov", True),
    "chisquare": ("chi-squared", True),
    "z": ("proportion z-test", True),
    "wasserstein": ("Wasserstein (normed)", False),
    "jensenshannon": ("Jensen-Shannon", False),
}


@dataclass(frozen=True)
class DriftResult:
    """One column's drift verdict: the test, its statistic, p-value (None for a distance), the
    threshold it was compared with, whether it drifted, and PSI beside it."""

    test: str
    statistic: float          # KS D, chi-squared, z, or the distance itself
    p_value: float | None     # None for the distance tests
    threshold: float          # p below it, or distance at or above it, is drift
    drifted: bool
    psi: float
    kind: str = "numerical"   # the column's kind (see column_kind)
    n_reference: int = 0
    n_current: int = 0

    @property
    def test_name(self) -> str:
        return TESTS[self.test][0]

    @property
    def score(self) -> float:
        """The number compared with the threshold: the p-value, or the distance."""
        return self.p_value if self.p_value is not None else self.statistic

    @property
    def severity(self) -> float:
        """How far past the alarm line, on one scale for every test: 1 is the line itself,
        above 1 is drift. log(p)/log(threshold) for tests, distance/threshold for distances."""
        if self.p_value is None:
            return self.statistic / self.threshold
        return math.log(max(self.p_value, 1e-300)) / math.log(self.threshold)

    @property
    def psi_band(self) -> str:
        return psi_band(self.psi)

    def describe(self) -> str:
        """'KS p = 0.003 (drift: below 0.05)' or 'Wasserstein (normed) 0.04 (no drift: below 0.1)'."""
        if self.p_value is not None:
            side = "below" if self.drifted else "not below"
            return (f"{self.test_name} p = {format_p(self.p_value)} "
                    f"({'drift' if self.drifted else 'no drift'}: {side} {self.threshold:g})")
        side = "at or above" if self.drifted else "below"
        return (f"{self.test_name} {self.statistic:.3g} "
                f"({'drift' if self.drifted else 'no drift'}: {side} {self.threshold:g})")

    def to_dict(self) -> dict:
        return {"kind": self.kind, "test": self.test, "statistic": _finite(self.statistic),
                "p_value": self.p_value, "threshold": self.threshold, "drifted": self.drifted,
                "psi": _finite(self.psi), "psi_band": self.psi_band,
                "n_reference": self.n_reference, "n_current": self.n_current}


@dataclass(frozen=True)
class DatasetDrift:
    """Every column's DriftResult, the share that drifted and the dataset's verdict."""

    columns: dict[str, DriftResult] = field(repr=False)
    drifted_share: float
    drifted: bool
    share: float = DRIFT_SHARE

    @property
    def n_drifted(self) -> int:
        return sum(r.drifted for r in self.columns.values())

    def frame(self) -> pd.DataFrame:
        """One row per column: kind, test, statistic, p_value, threshold, drifted, psi, band."""
        rows = [{"column": name, **r.to_dict()} for name, r in self.columns.items()]
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        return (f"DatasetDrift({self.n_drifted} of {len(self.columns)} columns drifted, "
                f"share {self.drifted_share:.2f}, drifted={self.drifted})")


def format_p(p: float) -> str:
    """A p-value for a person: '0.003', '0.41', '< 0.0001'."""
    return "< 0.0001" if p < 1e-4 else f"{p:.2g}" if p < 0.01 else f"{p:.3f}"


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _values(values) -> np.ndarray:
    """A 1-D array without missing or infinite values."""
    arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    arr = arr.ravel()
    if arr.dtype.kind in "fc":
        return arr[np.isfinite(arr)]
    if arr.dtype.kind == "O":
        return arr[pd.notna(arr)]
    return arr


def column_kind(values) -> str:
    """'numerical' or 'categorical', as Evidently infers a column's type: floats are numerical,
    integers with at most 10 distinct values are categorical, text, booleans and categories are
    categorical."""
    dtype = values.dtype if isinstance(values, pd.Series) else np.asarray(values).dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return "categorical"
    if pd.api.types.is_integer_dtype(dtype):
        n_values = len(np.unique(_values(values)))
        return "categorical" if n_values <= INTEGER_CATEGORY_MAX else "numerical"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numerical"
    return "categorical"


def choose_test(kind: str, n_reference: int, n_values: int) -> str:
    """The test Evidently runs by default for a column of ``kind`` with ``n_reference`` reference
    rows and ``n_values`` distinct values in reference and current together."""
    if kind not in KINDS:
        raise ValueError(f"A column's kind is one of {', '.join(KINDS)}, got {kind!r}.")
    as_categories = kind == "categorical" or n_values <= FEW_VALUES_MAX
    if n_reference <= SMALL_REFERENCE_MAX:
        if as_categories:
            return "chisquare" if n_values > 2 else "z"
        return "ks"
    return "jensenshannon" if as_categories else "wasserstein"


def _category_counts(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts per distinct value (the union of both samples, in one order) in ref and cur."""
    codes, _ = pd.factorize(np.concatenate([ref, cur]), sort=True)
    n = int(codes.max()) + 1 if len(codes) else 0
    return (np.bincount(codes[:len(ref)], minlength=n).astype(float),
            np.bincount(codes[len(ref):], minlength=n).astype(float))


def _chisquare(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """Goodness of fit of the current counts to the reference's shares (Evidently's chi-squared).
    A value the reference never had makes the statistic infinite and p zero."""
    expected = ref_counts / ref_counts.sum() * cur_counts.sum()
    if np.any((expected == 0) & (cur_counts > 0)):
        return math.inf, 0.0
    keep = expected > 0
    stat, p = stats.chisquare(cur_counts[keep], expected[keep])
    return float(stat), float(p)


def _z_test(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """Two-proportion z-test with the pooled proportion (the share of the first value)."""
    n1, n2 = ref_counts.sum(), cur_counts.sum()
    p1, p2 = ref_counts[0] / n1, cur_counts[0] / n2
    pooled = (ref_counts[0] + cur_counts[0]) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if spread == 0:   # one value everywhere: nothing moved
        return 0.0, 1.0
    z = (p1 - p2) / spread
    return float(z), float(2 * stats.norm.sf(abs(z)))


def _shares(ref: np.ndarray, cur: np.ndarray, as_categories: bool) -> tuple[np.ndarray, np.ndarray]:
    """Shares per bin for Jensen-Shannon, binned as Evidently bins: a numerical column with more
    than 20 reference values in Sturges bins over both samples, otherwise one bin per value."""
    if not as_categories and len(np.unique(ref)) > 20:
        edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        r, c = np.histogram(ref, edges)[0], np.histogram(cur, edges)[0]
    else:
        r, c = _category_counts(ref, cur)
    return r / len(ref), c / len(cur)


def psi(reference, current, kind: str | None = None, bins: int = PSI_BINS) -> float:
    """Population stability index: sum over bins of (cur - ref) * ln(cur / ref), with shares per
    reference decile (numerical) or per value (categorical, or at most 20 distinct values);
    an empty bin counts as a share of 1e-4."""
    ref, cur = _values(reference), _values(current)
    if not len(ref) or not len(cur):
        raise ValueError("PSI needs values in both samples; one of them is empty.")
    kind = kind or column_kind(reference)
    if kind == "numerical" and len(np.unique(ref)) > 20:
        edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))
        r = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1)
        c = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1)
    else:
        r, c = _category_counts(ref, cur)
    r = np.maximum(r / len(ref), PSI_FLOOR)
    c = np.maximum(c / len(cur), PSI_FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


def psi_band(value: float) -> str:
    """'stable' below 0.1, 'moderate' from 0.1, 'major' from 0.25."""
    return "stable" if value < PSI_BANDS[0] else "moderate" if value < PSI_BANDS[1] else "major"


def column_drift(reference, current, kind: str | None = None, test: str | None = None,
                 threshold: float | None = None) -> DriftResult:
    """Drift of one column: the default test for its kind and the reference's size (or ``test``),
    at the test's default threshold (or ``threshold``), with PSI beside it.

    ``reference`` and ``current`` are 1-D (a Series, an array or a list); missing and infinite
    values are dropped. ValueError when a sample is empty or ``test`` is unknown.
    """
    ref, cur = _values(reference), _values(current)
    if not len(ref) or not len(cur):
        which = "reference" if not len(ref) else "current"
        raise ValueError(f"The {which} sample has no values to test (empty, or only missing "
                         "values); drift needs values on both sides.")
    kind = kind or column_kind(reference)
    if kind == "numerical" and (ref.dtype.kind not in "biuf" or cur.dtype.kind not in "biuf"):
        raise ValueError("A numerical column must hold numbers in both samples.")
    n_values = len(pd.unique(np.concatenate([ref, cur])))
    test = test or choose_test(kind, len(ref), n_values)
    if test not in TESTS:
        raise ValueError(f"Unknown drift test {test!r}; choose one of {', '.join(TESTS)}.")
    has_p = TESTS[test][1]
    threshold = float(threshold if threshold is not None
                      else P_VALUE_THRESHOLD if has_p else DISTANCE_THRESHOLD)
    p_value = None
    if test == "ks":
        result = stats.ks_2samp(ref, cur, method="auto" if len(ref) * len(cur) <= KS_EXACT_MAX
                                else "asymp")
        statistic, p_value = float(result.statistic), float(result.pvalue)
    elif test in ("chisquare", "z"):
        ref_counts, cur_counts = _category_counts(ref, cur)
        if test == "z" and len(ref_counts) > 2:
            raise ValueError(f"The z-test compares two values; this column has {len(ref_counts)}.")
        statistic, p_value = (_chisquare if test == "chisquare" else _z_test)(ref_counts, cur_counts)
    elif test == "wasserstein":
        statistic = float(stats.wasserstein_distance(ref, cur) / max(float(np.std(ref)), 1e-3))
    else:
        as_categories = kind == "categorical" or n_values <= FEW_VALUES_MAX
        statistic = float(distance.jensenshannon(*_shares(ref, cur, as_categories)))
    # KS alarms at p <= threshold, chi-squared and z at p < threshold, as in Evidently
    drifted = (p_value <= threshold if test == "ks" else p_value < threshold) if has_p \
        else statistic >= threshold
    return DriftResult(test, statistic, p_value, threshold, bool(drifted),
                       psi(ref, cur, "categorical" if n_values <= FEW_VALUES_MAX else kind),
                       kind, len(ref), len(cur))


def _frame(data, columns=None) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    arr = np.asarray(data)
    if arr.ndim != 2:
        raise ValueError(f"Drift compares tables (rows x columns); got an array of shape {arr.shape}.")
    return pd.DataFrame(arr, columns=columns or [f"x{i}" for i in range(arr.shape[1])])


def dataset_drift(reference, current, share: float = DRIFT_SHARE, columns=None,
                  kinds: dict[str, str] | None = None) -> DatasetDrift:
    """Drift of every column (or ``columns``) and the dataset's verdict: drift when at least
    ``share`` of the columns drift. Tables are DataFrames with the same columns (or 2-D arrays).
    ``kinds`` may fix a column's kind (e.g. an integer code with many values as categorical)."""
    if not 0 < share <= 1:
        raise ValueError(f"The drift share is a fraction of the columns in (0, 1], got {share}.")
    ref, cur = _frame(reference), _frame(current, list(_frame(reference).columns))
    names = list(columns) if columns is not None else list(ref.columns)
    missing = [c for c in names if c not in ref.columns or c not in cur.columns]
    if missing:
        raise ValueError(f"Columns missing from one of the tables: {', '.join(map(str, missing))}.")
    if not names:
        raise ValueError("There are no columns to test.")
    kinds = kinds or {}
    results = {name: column_drift(ref[name], cur[name], kinds.get(name)) for name in names}
    drifted_share = sum(r.drifted for r in results.values()) / len(results)
    return DatasetDrift(results, drifted_share, bool(drifted_share >= share), share)


def drift_report(reference_df, current_df, share: float = DRIFT_SHARE) -> dict:
    """Plain JSON-able drift report: one entry per column (kind, test, statistic, p_value (None
    where the test has none), threshold, drifted, psi, psi_band) and the dataset's verdict."""
    result = dataset_drift(reference_df, current_df, share)
    return {"columns": {str(name): r.to_dict() for name, r in result.columns.items()},
            "n_columns": len(result.columns), "n_drifted": result.n_drifted,
            "drifted_share": result.drifted_share, "share": share,
            "dataset_drifted": result.drifted,
            "n_reference": len(_frame(reference_df)), "n_current": len(_frame(current_df))}
