"""The exported Playground script: same points, same initial weights, and it runs and learns."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from nnplay.lessons import playground as pg
from nnplay.lessons.playground import export as codegen


def run_script(source: str, tmp_path) -> str:
    path = tmp_path / "experiment.py"
    path.write_text(source, encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # -I: isolated from this checkout, so the script can only use what it imports itself
    done = subprocess.run([sys.executable, "-I", str(path)], capture_output=True, text=True,
                          timeout=300, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return done.stdout


def final_score(stdout: str, name: str) -> float:
    return float(re.search(rf"final {name}=([-0-9.]+)", stdout).group(1))


@pytest.mark.parametrize("settings", [
    pg.PlaygroundSettings(dataset="spiral", noise=30, data_seed=4),
    pg.PlaygroundSettings(dataset="moons", noise=20, data_seed=2),
    pg.PlaygroundSettings(dataset="blobs", n_classes=4, noise=25, data_seed=1),
    pg.PlaygroundSettings(problem="regression", dataset="gauss_regression", noise=10),
], ids=lambda s: s.dataset)
def test_script_draws_the_same_points_as_nnplay(settings):
    generator, call = codegen.data_code(settings)
    p = settings.dataset_params()
    scope = {"np": np, "N": p["n"], "NOISE": p["noise"], "DATA_SEED": settings.data_seed}
    exec(compile(generator + "\n" + call, "<export>", "exec"), scope)
    raw = pg.load_raw(settings)
    ours = np.concatenate([raw.X_train, raw.X_test])
    theirs = scope["X"].astype(np.float32)
    assert len(theirs) == len(ours) == 500
    key = np.lexsort(ours.T)
    np.testing.assert_allclose(theirs[np.lexsort(theirs.T)], ours[key], rtol=1e-6, atol=1e-6)
    ys = np.concatenate([raw.y_train, raw.y_test])
    np.testing.assert_allclose(np.sort(scope["y"]), np.sort(ys), atol=1e-6)


def test_script_builds_the_same_initial_weights():
    s = pg.PlaygroundSettings(dataset="xor", hidden=(5, 3), dropout=0.1, seed=11,
                              features=("x1", "x2", "x1x2"))
    scope = {"nn": nn, "torch": torch}
    source = codegen.export_script(s)
    build = source[source.index("torch.manual_seed(SEED)"):source.index("weights = ")]
    exec(build.replace("SEED", str(s.seed)), scope)
    exported = scope["model"]
    session = pg.PlaygroundSession(s)
    ours = [p.detach() for p in session.model.parameters()]
    theirs = [p.detach() for p in exported.parameters()]
    assert len(ours) == len(theirs) == 6
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b)
    assert sum(isinstance(m, nn.Dropout) for m in exported) == 2


def test_exported_tf_default_experiment_runs_and_learns(tmp_path):
    s = pg.PlaygroundSettings(dataset="circle", epochs=150, schedule="warmup_cosine")
    out = run_script(codegen.export_script(s, print_every=50), tmp_path)
    first = float(re.search(r"epoch 1: .* test_accuracy ([0-9.]+)", out).group(1))
    assert final_score(out, "test_accuracy") >= 0.9 > first
    assert "import nnplay" not in codegen.export_script(s)


def test_exported_regression_with_regularisation_and_early_stopping_learns(tmp_path):
    s = pg.PlaygroundSettings(problem="regression", dataset="plane", hidden=(),
                              optimizer="adam", lr=0.1, batch_size=0, epochs=400,
                              regularization="l1", reg_rate=0.001, early_stopping=30,
                              schedule="step")
    out = run_script(codegen.export_script(s), tmp_path)
    assert final_score(out, "test_r2") > 0.97


@pytest.mark.parametrize("schedule", pg.SCHEDULES)
@pytest.mark.parametrize("optimizer", pg.OPTIMIZERS)
def test_every_schedule_and_optimizer_exports_valid_python(schedule, optimizer):
    s = pg.PlaygroundSettings(schedule=schedule, optimizer=optimizer, hidden=())
    source = codegen.export_script(s)
    compile(source, "experiment.py", "exec")
    assert max(len(line) for line in source.splitlines()) <= 100


# ---- the notebook export -------------------------------------------------------------------
def notebook_code(source: str) -> list[str]:
    import nbformat

    notebook = nbformat.reads(source, as_version=4)
    nbformat.validate(notebook)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def test_notebook_cells_run_top_to_bottom_and_learn(capsys):
    """Each code cell in order in one fresh namespace, as a kernel would run them."""
    s = pg.PlaygroundSettings(dataset="circle", epochs=150, schedule="warmup_cosine")
    cells = notebook_code(codegen.export_notebook(s, print_every=50))
    assert len(cells) >= 6 and "import nnplay" not in "".join(cells)
    scope: dict = {"__name__": "__main__"}
    for code in cells:
        exec(compile(code, "<cell>", "exec"), scope)
    out = capsys.readouterr().out
    first = float(re.search(r"epoch 1: .* test_accuracy ([0-9.]+)", out).group(1))
    assert final_score(out, "test_accuracy") >= 0.9 > first
    # the script and the notebook hold the same code
    script = codegen.export_script(s, print_every=50)
    for code in cells:
        assert code in script


def uploaded_moons():
    from nnplay.lessons.playground import upload as up
    from tests.lessons.test_playground_upload import two_moons_csv

    csv = up.read_plane_csv(two_moons_csv(300), "moons.csv")
    raw = up.load_plane(csv, "height", "weight", "kind", test_size=0.3)
    s = up.plane_settings(pg.PlaygroundSettings(hidden=(8, 8), optimizer="adam", lr=0.03,
                                                epochs=150), csv, "height", "weight", "kind")
    return s, raw


def test_notebook_of_an_uploaded_csv_runs_in_a_kernel_and_learns(tmp_path):
    """nbclient runs the notebook in a real IPython kernel (the venv's ipykernel), offline."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    s, raw = uploaded_moons()
    source = codegen.export_notebook(s, print_every=50, raw=raw)
    assert "moons.csv" in source and "uploaded_points()" in source
    notebook = nbformat.reads(source, as_version=4)
    nbclient.NotebookClient(notebook, timeout=240, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    out = "".join(o.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                  for o in cell.get("outputs", []))
    assert final_score(out, "test_accuracy") >= 0.9


def test_uploaded_csv_script_carries_its_points(tmp_path):
    s, raw = uploaded_moons()
    source = codegen.export_script(s, print_every=50, raw=raw)
    assert max(len(line) for line in source.splitlines()) <= 100
    out = run_script(source, tmp_path)
    assert final_score(out, "test_accuracy") >= 0.9
    with pytest.raises(ValueError, match="needs its points"):
        codegen.export_script(s)
