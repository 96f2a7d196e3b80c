"""Lesson: robustness. Image corruptions and adversarial examples (FGSM, PGD) against accuracy,
adversarial training as a toggle, and feature noise and missing values on tables. All numbers
come from nnplay.responsible.robustness; figures from nnplay.plots.robustness.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from nnplay.lessons import robustness as lesson
from nnplay.plots import robustness as rplots
from nnplay.responsible import robustness as rob
from nnplay.train.jobs import Job
from nnplay.ui import cache, state
from nnplay.ui import workspace as ws
from nnplay.ui.jobs import job_panel, job_running, start_job
from nnplay.ui.widgets import dataset_picker, device_badge

ADV_JOB = "rob_adv_job"
SEVERITIES = lesson.SEVERITIES


remembered = partial(state.remembered, "rob_results")   # results for the same model and settings
remember = partial(state.remember, "rob_results")


def image_data():
    c1, c2 = st.columns(2)
    name = c1.selectbox("Data", lesson.IMAGE_SETS, key="rob_image_data")
    c2.radio("Network to train", lesson.IMAGE_FAMILIES, horizontal=True, key="rob_image_family",
             format_func=str.upper)
    return cache.load_dataset(name)


def table_data():
    return dataset_picker("rob_table", kinds=("real", "toy"), tasks=("classification",),
                          default=lesson.TABLE_DEFAULT)


def pick_model(kind: str):
    """The session's model to test, or one trained here in the background."""
    if kind == "image":
        return ws.pick_or_train(
            "rob_image", "robustness", image_data, epochs=lesson.IMAGE_EPOCHS,
            spec_for=lambda ds: lesson.image_spec(ds, st.session_state["rob_image_family"]),
            task="classification", kind="image", what="a network",
            checkpoint=lambda: lesson.load_checkpoint(cache.load_dataset("mnist5k")))
    return ws.pick_or_train("rob_table", "robustness", table_data, spec_for=lesson.table_spec,
                            epochs=lesson.TABLE_EPOCHS, task="classification", kind="tabular",
                            what="a network")


def corruption_section(name: str, model, X, y) -> None:
    st.subheader("Corruptions")
    kinds = st.multiselect("Corruptions", list(rob.CORRUPTIONS), default=list(rob.CORRUPTIONS),
                           key="rob_corruptions")
    if not kinds:
        return None
    curve = remembered("corrupt", name, len(y), kinds)
    if curve is None:
        curve = remember(rob.corruption_curve(model, X, y, kinds, SEVERITIES),
                         "corrupt", name, len(y), kinds)
    st.plotly_chart(rplots.corruption_curve_figure(curve), key="rob_corruption_fig")
    worst = curve.loc[curve["severity"] == 1.0].set_index("corruption")["accuracy"]
    st.caption(f"Clean accuracy {curve['accuracy'].iloc[0]:.1%}; at severity 1 the worst is "
               f"{worst.idxmin().replace('_', ' ')} ({worst.min():.1%}).")
    gallery = {k: [rob.corrupt(X[:1], k, s)[0] for s in SEVERITIES] for k in kinds}
    st.plotly_chart(rplots.corruption_gallery_figure(gallery, SEVERITIES), key="rob_gallery_fig")
    return curve


def attack_section(name: str, model, X, y, class_names) -> None:
    st.subheader("Adversarial examples")
    st.latex(r"\text{FGSM: } x' = \mathrm{clip}_{[0,1]}\big(x + \epsilon\,"
             r"\mathrm{sign}(\nabla_x L(f(x), y))\big)")
    st.latex(r"\text{PGD: } x^{t+1} = \Pi_{\|x'-x\|_\infty \le \epsilon}\big(x^t + \alpha\,"
             r"\mathrm{sign}(\nabla_x L(f(x^t), y))\big)")
    c1, c2, c3 = st.columns(3)
    eps_max = c1.slider("Largest eps", 0.05, 0.3, 0.15, step=0.05, key="rob_eps_max")
    steps = c2.slider("PGD steps", 2, 20, 7, key="rob_pgd_steps")
    eps = c3.slider("eps for the gallery", 0.0, 0.3, 0.1, step=0.01, key="rob_eps")
    eps_list = [round(eps_max * i / 5, 4) for i in range(6)]
    curve = remembered("attack", name, len(y), eps_max, steps)
    if curve is None:
        curve = remember(pd.concat([rob.accuracy_under_attack(model, X, y, eps_list, "fgsm"),
                                    rob.accuracy_under_attack(model, X, y, eps_list, "pgd",
                                                              steps=steps)]),
                         "attack", name, len(y), eps_max, steps)
    st.plotly_chart(rplots.attack_curve_figure(curve), key="rob_attack_fig")
    method = st.radio("Gallery attack", list(rob.ATTACKS), horizontal=True, key="rob_method",
                      format_func=str.upper)
    examples = rob.adversarial_examples(model, X[:4], y[:4], eps, method, steps=steps)
    flipped = int((examples["adv_pred"] != examples["pred"]).sum())
    st.metric("Predictions changed in the gallery", f"{flipped} of {len(examples['pred'])}")
    st.plotly_chart(rplots.adversarial_gallery_figure(examples, class_names),
                    key="rob_adv_gallery_fig")
    return curve


def start_adversarial_training(entry, n: int) -> None:
    eps, epochs = st.session_state["rob_adv_eps"], st.session_state["rob_adv_epochs"]
    method = st.session_state["rob_adv_method"]
    start_job(ADV_JOB, Job(rob.adversarial_finetune, entry.model, entry.dataset, eps, epochs,
                           method, eval_size=n, label="adversarial training"),
              result_key=("advtrain", entry.name, eps, epochs, method, n), entry=entry.name)


def finish_adversarial_training(job: dict) -> None:
    worker = job["worker"]
    if worker.result is None:
        return
    robust, history = worker.result
    entry = ws.workspace().get(job["entry"]) if job["entry"] in ws.workspace() else None
    if len(history) > 1 and entry is not None:
        ws.register(lesson="robustness", spec=entry.spec, model=robust, dataset=entry.dataset,
                    name=f"{entry.name} (adversarially trained)",
                    metrics={"accuracy": history[-1]["clean_accuracy"]})
        remember((history[0], history[-1]), *job["result_key"])


def adversarial_training_section(entry, n: int) -> None:
    if not st.toggle("Adversarial training", key="rob_adv_toggle"):
        return
    c1, c2, c3 = st.columns(3)
    eps = c1.slider("Training eps", 0.05, 0.3, 0.1, step=0.05, key="rob_adv_eps")
    epochs = c2.slider("Epochs", 1, 5, 2, key="rob_adv_epochs")
    method = c3.radio("Attack", list(rob.ATTACKS), horizontal=True, key="rob_adv_method",
                      format_func=str.upper)
    st.button("Retrain with adversarial examples", key="rob_adv_train",
              on_click=start_adversarial_training, args=(entry, n), disabled=job_running(ADV_JOB))
    job_panel(ADV_JOB, finish_adversarial_training, what="Adversarial training")
    done = remembered("advtrain", entry.name, eps, epochs, method, n)
    if done is None:
        st.info("Retrain a copy of the model on clean plus adversarial images to see robust "
                "accuracy rise (and what happens to clean accuracy).")
        return
    before, after = done
    m1, m2 = st.columns(2)
    m1.metric("Robust accuracy", f"{after['robust_accuracy']:.1%}",
              f"{after['robust_accuracy'] - before['robust_accuracy']:+.1%}")
    m2.metric("Clean accuracy", f"{after['clean_accuracy']:.1%}",
              f"{after['clean_accuracy'] - before['clean_accuracy']:+.1%}")
    st.plotly_chart(rplots.adversarial_training_figure(before, after), key="rob_adv_fig")


def images_part() -> None:
    entry = pick_model("image")
    if entry is None:
        return
    name, ds = entry.name, entry.dataset
    n = st.slider("Test images to evaluate on", 100, min(1000, ds.n_test), min(300, ds.n_test),
                  step=100, key="rob_n_images")
    X, y = ds.X_test[:n], ds.y_test[:n]
    corrupted = corruption_section(name, entry.model, X, y)
    attacked = attack_section(name, entry.model, X, y, ds.class_names)
    ws.workspace().add_finding(name, "robustness", lesson.finding(
        entry.findings.get("robustness"), n, corruptions=corrupted, attacks=attacked))
    adversarial_training_section(entry, n)


def tables_part() -> None:
    entry = pick_model("tabular")
    if entry is None:
        return
    ds = entry.dataset
    c1, c2 = st.columns(2)
    noise_max = c1.slider("Largest noise std", 0.5, 3.0, 2.0, step=0.5, key="rob_noise_max")
    missing_max = c2.slider("Largest missing share", 0.2, 1.0, 0.8, step=0.1,
                            key="rob_missing_max")
    noise = rob.tabular_curve(entry.model, ds.X_test, ds.y_test, "noise",
                              [round(noise_max * i / 6, 3) for i in range(7)])
    missing = rob.tabular_curve(entry.model, ds.X_test, ds.y_test, "missing",
                                [round(missing_max * i / 6, 3) for i in range(7)])
    st.plotly_chart(rplots.tabular_curve_figure(noise), key="rob_noise_fig")
    st.plotly_chart(rplots.tabular_curve_figure(missing), key="rob_missing_fig")
    st.caption(f"Clean accuracy {noise['accuracy'].iloc[0]:.1%}; with noise std {noise_max:g}: "
               f"{noise['accuracy'].iloc[-1]:.1%}; with {missing_max:.0%} of cells missing: "
               f"{missing['accuracy'].iloc[-1]:.1%}.")
    ws.workspace().add_finding(entry.name, "robustness", lesson.finding(
        entry.findings.get("robustness"), len(ds.y_test), tabular=pd.concat([noise, missing])))


def main() -> None:
    st.title("Robustness")
    device_badge()
    st.markdown("A network that scores well on clean test data can fail on slightly damaged "
                "inputs: noise, blur, a rotated scan, a smudge, or changes made on purpose to "
                "fool it. Measure how accuracy falls as the damage grows.")
    part = st.radio("Data", ["Images", "Tables"], horizontal=True, key="rob_part")
    if part == "Images":
        images_part()
    else:
        tables_part()


try:
    main()
except ValueError as err:
    st.error(f"That setting could not be used: {err}")
