"""Opening the black box: SHAP and LIME for tabular models, captum attributions, Grad-CAM and
LIME for images, with the sanity checks each method owes its reader.

Importing this package is light: shap, lime and captum are imported only when a function runs.

    from nnplay import explain
    exp = explain.shap_values(model, background, X, target=None)   # shap.Explanation
    attr = explain.attribution(model, images, target=3, method="integrated_gradients")
    lime = explain.lime_explanation(model, x, training_data=ds.X_train)
    units = explain.original_units(ds)          # "age = 41", "sex = male" <-> model inputs
    cf = explain.counterfactual(model, ds, x)   # the smallest change found that flips the class
    pd_ = explain.partial_dependence(model, ds, "age", row=x)
"""

from __future__ import annotations

import numpy as np

from nnplay.explain.image import (
    METHOD_TITLES,
    METHODS,
    SIGNED,
    attribution,
    attribution_map,
    completeness_frame,
    cost_frame,
    explain_image,
    gradient_methods,
    grid_segments,
    last_conv_layer,
    lime_image,
    target_output,
)
from nnplay.explain.tabular import (
    LimeResult,
    agreement_note,
    background_sample,
    compare_shap_lime,
    efficiency_frame,
    lime_tabular,
    model_output_fn,
    shap_values,
)
from nnplay.explain.units import (
    NONE_LABEL,
    Feature,
    OriginalUnits,
    display_row,
    encode_row,
    format_number,
    in_target_units,
    original_units,
)
from nnplay.explain.whatif import (
    Counterfactual,
    counterfactual,
    output_names,
    outputs,
    partial_dependence,
    pd_grid,
)
from nnplay.train.jobs import Cancelled, Job


def lime_explanation(model, x, training_data=None, target: int | None = None,
                     task: str = "classification", **kwargs) -> LimeResult:
    """LIME for one input: a feature row (needs ``training_data``) or an image (C, H, W).

    Keyword arguments go to lime_tabular (feature_names, class_names, num_samples,
    num_features, seed, progress, should_stop) or lime_image (num_samples, segment_size, seed,
    progress, should_stop).
    """
    ndim = np.ndim(x)
    if ndim == 1:
        if training_data is None:
            raise ValueError("Tabular LIME needs training_data to sample the neighbourhood from.")
        return lime_tabular(model, x, training_data, target=target, task=task, **kwargs)
    if ndim == 3:
        if task != "classification":
            raise ValueError("LIME for images explains a class probability; use a classifier.")
        return lime_image(model, x, target=target, **kwargs)
    raise ValueError(f"lime_explanation takes one row (features,) or one image (C, H, W); got "
                     f"shape {np.shape(x)}.")


__all__ = ["METHODS", "METHOD_TITLES", "NONE_LABEL", "SIGNED", "Cancelled", "Counterfactual",
           "Feature", "Job", "LimeResult", "OriginalUnits", "agreement_note", "attribution",
           "attribution_map", "background_sample", "compare_shap_lime", "completeness_frame",
           "cost_frame", "counterfactual", "display_row", "efficiency_frame", "encode_row",
           "explain_image", "format_number", "gradient_methods", "grid_segments",
           "in_target_units", "last_conv_layer", "lime_explanation", "lime_image",
           "lime_tabular", "model_output_fn", "original_units", "output_names", "outputs",
           "partial_dependence", "pd_grid", "shap_values", "target_output"]
