"""Headless tests of pages/robustness.py: corruptions, attacks and adversarial training on a
digits network trained on the page, and tabular damage on breast_cancer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nnplay.responsible import robustness as rob
from nnplay.train import predict

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "robustness.py")


def metric(at: AppTest, label: str):
    (match,) = [m for m in at.metric if m.label == label]
    return match


@pytest.fixture
def page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    return at


def test_images_corruptions_attacks_and_adversarial_training(page, finish_job):
    # the page opens with the CNN shipped in assets/, already trained on mnist5k
    (shipped,) = page.session_state["nnplay_workspace"].list()
    assert shipped.dataset.name == "mnist5k" and shipped.family == "cnn"
    assert shipped.metrics["accuracy"] > 0.85 and page.caption   # and the curves are drawn
    page.radio(key="rob_image_source").set_value("Train one on the spot").run()
    first = page.session_state["rob_image_spot_job"]["worker"]
    assert first.trainer.dataset.name == "mnist5k" and first.trainer.spec.family == "cnn"
    page.selectbox(key="rob_image_data").set_value("digits").run()   # new data: trains again
    assert first.should_stop()
    finish_job(page, "rob_image_spot_job")
    entry = page.session_state["nnplay_workspace"].list()[0]
    assert entry.dataset.name == "digits" and entry.lesson == "robustness"
    n = page.slider(key="rob_n_images").value
    X, y = entry.dataset.X_test[:n], entry.dataset.y_test[:n]
    clean = float(np.mean(predict(entry.model, X) == y))
    curve = rob.corruption_curve(entry.model, X, y, rob.CORRUPTIONS, [1.0])
    worst = curve.loc[curve["accuracy"].idxmin()]
    caption = f"Clean accuracy {clean:.1%}; at severity 1 the worst is " \
              f"{worst['corruption'].replace('_', ' ')} ({worst['accuracy']:.1%})."
    assert caption in [c.value for c in page.caption]
    examples = rob.adversarial_examples(entry.model, X[:4], y[:4], 0.1, "fgsm")
    flipped = int((examples["adv_pred"] != examples["pred"]).sum())
    assert metric(page, "Predictions changed in the gallery").value == f"{flipped} of 4"

    page.toggle(key="rob_adv_toggle").set_value(True).run()
    page.button(key="rob_adv_train").click().run()
    finish_job(page, "rob_adv_job")
    _, history = rob.adversarial_finetune(entry.model, entry.dataset, 0.1, 2, "fgsm",
                                          eval_size=n)
    robust = metric(page, "Robust accuracy")
    assert robust.value == f"{history[-1]['robust_accuracy']:.1%}"
    assert robust.delta == \
        f"{history[-1]['robust_accuracy'] - history[0]['robust_accuracy']:+.1%}"
    assert history[-1]["robust_accuracy"] > history[0]["robust_accuracy"]
    names = [m.name for m in page.session_state["nnplay_workspace"].list()]
    assert any("adversarially trained" in name for name in names)


def test_tables_noise_and_missing_values(page, finish_job):
    page.radio(key="rob_part").set_value("Tables").run()
    finish_job(page, "rob_table_spot_job")
    (entry,) = page.session_state["nnplay_workspace"].list(kind="tabular")
    assert entry.dataset.name == "breast_cancer"
    ds = entry.dataset
    noise = rob.tabular_curve(entry.model, ds.X_test, ds.y_test, "noise", [0.0, 2.0])
    missing = rob.tabular_curve(entry.model, ds.X_test, ds.y_test, "missing", [0.8])
    caption = (f"Clean accuracy {noise['accuracy'].iloc[0]:.1%}; with noise std 2: "
               f"{noise['accuracy'].iloc[1]:.1%}; with 80% of cells missing: "
               f"{missing['accuracy'].iloc[0]:.1%}.")
    assert caption in [c.value for c in page.caption]
    assert noise["accuracy"].iloc[0] > 0.9
