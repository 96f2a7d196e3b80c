"""Headless tests of pages/lab_mnist.py: the default grid and the data note on opening, a tiny grid
trained in the background with real numbers in its table, stored runs and the best network in the
session's models, a stopped grid, an empty grid, a drawn digit and the misclassified digits of
the chosen model, and a failed download's message. Full MNIST is never on this machine here."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nnplay.data import mnist
from nnplay.lessons import lab_mnist as lab
from nnplay.train.runs import RunStore

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "lab_mnist.py")
JOB = "labm_job"
RAW = re.compile(r"\b(nan|None|NaN|inf)\b")
TINY = {"layers": [1, 2], "neurons": [16], "activations": ["relu", "sigmoid"], "epochs": 1,
        "seed": 0, "source": "mnist5k", "train_rows": 10_000}


@pytest.fixture(autouse=True)
def _no_full_mnist(tmp_path, monkeypatch):
    monkeypatch.setenv(mnist.ENV_VAR, str(tmp_path / "no-mnist-here"))


def shown_text(at: AppTest) -> list[str]:
    """Everything the page wrote: markdown, captions, notices and every table cell."""
    texts = [e.value for group in (at.markdown, at.caption, at.info, at.warning, at.error,
                                   at.success) for e in group]
    for frame in at.dataframe:
        texts += [str(v) for v in frame.value.to_numpy().ravel()] + list(frame.value.columns)
    return texts


def open_with(settings: dict) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["labm_settings"] = dict(settings)
    at.run()
    assert not at.exception
    return at


def train(at: AppTest) -> AppTest:
    at.button(key="labm_start").click().run()
    at.session_state[JOB]["worker"].join(120)
    at.run()
    assert not at.exception
    return at


def test_opens_on_the_default_grid_and_says_which_data(open_page):
    at = open_page("lab_mnist")
    assert at.pills(key="labm_layers").value == list(lab.DEFAULT_LAYERS)
    assert at.pills(key="labm_neurons").value == list(lab.DEFAULT_NEURONS)
    assert at.pills(key="labm_activations").value == list(lab.DEFAULT_ACTIVATIONS)
    assert at.number_input(key="labm_epochs").value == lab.DEFAULT_EPOCHS
    note = at.info[0].value
    assert "The bundled mnist5k" in note and "Full MNIST is not in" in note
    assert "no-mnist-here" in note
    assert any(c.value.startswith(f"27 networks, each trained for {lab.DEFAULT_EPOCHS} epochs")
               and "takes about" in c.value for c in at.caption)
    assert any("No model of this session reads handwritten digits yet" in i.value for i in at.info)


def test_a_tiny_grid_gives_a_table_of_real_numbers_and_keeps_the_best_model():
    at = train(open_with(TINY))
    assert JOB not in at.session_state                        # handled: the trainers are freed
    (table,) = at.dataframe
    shown = table.value
    assert len(shown) == 4 and list(shown["activation"]) == ["relu", "sigmoid", "relu", "sigmoid"]
    assert all(re.fullmatch(r"\d{1,3}\.\d%", v) for v in shown["test accuracy"])
    assert all(re.fullmatch(r"#\d+", v) for v in shown["run"])
    assert not [t for t in shown_text(at) if RAW.search(t)]
    assert any(m.value.startswith("All 4 cells trained on mnist5k") for m in at.markdown)
    kept = at.session_state["labm_results"]["table"]
    assert any(m.value == "\n".join(f"- {s}" for s in lab.findings(kept)) for m in at.markdown)
    stored = RunStore().list(lesson="lab_mnist")
    assert sorted(stored["id"]) == sorted(kept["run_id"])
    (entry,) = at.session_state["nnplay_workspace"].list()
    best = lab.best_cell(kept)
    assert entry.lesson == "lab_mnist" and entry.record.run_id == best["run_id"]
    assert entry.name == f"lab_mnist best: {lab.cell_name(*best[:3])}"
    assert at.selectbox(key="labm_model").value == entry.name
    # the results stay while the page is drawn again (they live in session state, not the job)
    at.radio(key="labm_metric").set_value("seconds").run()
    assert not at.exception and len(at.dataframe) == 1
    assert at.session_state["labm_settings"]["layers"] == TINY["layers"]

    # the chosen model's mistakes: the count is the engine's
    mistakes = lab.misclassified(entry.model, entry.dataset, 12)
    assert any(f"gets **{mistakes.attrs['errors']:,} of 1,250** test digits wrong" in m.value
               for m in at.markdown)

    # a blank canvas asks for a digit; a drawn one gets the model's answer and the steps
    assert any("Draw a digit on the black square" in i.value for i in at.info)
    canvas = np.zeros((56, 56))
    canvas[10:44, 26:31] = 1.0
    at.session_state["labm_draw"] = {"pixels": canvas.ravel().tolist()}
    at.run()
    assert not at.exception
    steps = mnist.preprocess_drawing(canvas.astype(np.float32))
    proba = lab.digit_probabilities(entry.model, steps.input)
    answer = next(m.value for m in at.markdown if " says **" in m.value)
    assert answer.startswith(f"**{entry.name}** says **{int(proba.argmax())}** "
                             f"({proba.max():.0%})")
    assert any(m.value.startswith("1. your drawing, 56x56") for m in at.markdown)


def test_a_stopped_grid_keeps_what_it_finished():
    at = open_with({**TINY, "epochs": 3})
    at.button(key="labm_start").click().run()
    worker = at.session_state[JOB]["worker"]
    worker.stop()
    worker.join(120)
    at.run()
    assert not at.exception
    kept = at.session_state["labm_results"]
    assert kept["status"] == "stopped"
    done = 0 if kept["table"] is None else len(kept["table"])
    if done:
        assert at.warning[0].value.startswith(f"Stopped after {done} of 4 cells")
        assert len(at.dataframe[0].value) == done
    else:
        assert at.warning[0].value.startswith("Stopped before the first cell finished")


def test_an_empty_grid_says_what_to_choose():
    at = open_with(TINY)
    at.pills(key="labm_activations").set_value([]).run()
    assert not at.exception
    assert at.warning[0].value == ("The grid is empty: choose at least one value for the "
                                   "activations.")
    assert not [b for b in at.button if b.key == "labm_start"]


def test_a_failed_download_is_a_message(monkeypatch):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\n"
                           "<urlopen error [Errno -2] Name or service not known>")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    at = open_with(TINY)
    at.button(key="labm_download_go").click().run()
    at.session_state["labm_download"]["worker"].join(30)
    at.run()
    assert not at.exception
    assert at.error[0].value.startswith("Download failed: Full MNIST could not be downloaded "
                                        "(urlopen error")
    assert "mnist5k" in at.error[0].value


def test_with_mnist_on_this_machine_the_learner_chooses_the_data(tmp_path, monkeypatch):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 40), ("t10k", 20)):   # MNIST's IDX files, tiny
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
            struct.pack(">iiii", 2051, n, 28, 28) + rng.integers(0, 256, n * 784, np.uint8).tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
            struct.pack(">ii", 2049, n) + (np.arange(n) % 10).astype(np.uint8).tobytes())
    monkeypatch.setenv(mnist.ENV_VAR, str(tmp_path))
    at = open_with(TINY)
    assert at.radio(key="labm_source").value == "mnist5k"
    assert not [b for b in at.button if b.key == "labm_download_go"]
    at.radio(key="labm_source").set_value("mnist").run()
    assert not at.exception
    assert at.success[0].value.startswith("Full MNIST from ")
    assert "40 training and 20 test digits" in at.success[0].value
    assert at.number_input(key="labm_train_rows").value == 10_000
    assert any(c.value.startswith("4 networks") and "on 36 digits" in c.value for c in at.caption)


def test_a_grid_the_server_will_not_start_is_a_message(monkeypatch):
    from nnplay.train.executor import QueueFull
    from nnplay.ui import jobs

    class Full:
        problem = ""

        def submit(self, worker, owner=None):
            raise QueueFull("You already have 2 jobs running; wait for one to finish.")

    monkeypatch.setattr(jobs, "get_executor", lambda: Full())
    at = open_with(TINY)
    at.button(key="labm_start").click().run()
    assert not at.exception
    assert at.error[0].value == ("The grid could not start: You already have 2 jobs running; "
                                 "wait for one to finish.")
    assert not at.button(key="labm_start").disabled
