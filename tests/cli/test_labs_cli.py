"""The labs' and frontiers' commands: `nnplay lab mnist-grid`, `nnplay pretrained predict`,
`nnplay federated` and `nnplay train --model gcn`: --json as the last line, one-line errors."""

from __future__ import annotations

import json

import pytest

from nnplay.cli import main


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_mnist_grid_gives_one_cell_per_combination(capsys):
    assert main(["lab", "mnist-grid", "--layers", "1,2", "--neurons", "16", "--activations",
                 "relu", "--epochs", "1", "--json"]) == 0
    out = last_json(capsys)
    cells = out["cells"]
    assert [(c["layers"], c["neurons"], c["activation"]) for c in cells] == [(1, 16, "relu"),
                                                                            (2, 16, "relu")]
    assert all(0.3 < c["test_accuracy"] <= 1 and c["seconds"] > 0 for c in cells)
    assert cells[0]["parameters"] == 784 * 16 + 16 + 16 * 10 + 10


@pytest.mark.slow
def test_pretrained_predict_names_the_cat(tmp_path, capsys):
    from PIL import Image
    from skimage import data

    Image.fromarray(data.chelsea()).save(tmp_path / "cat.png")
    assert main(["pretrained", "predict", str(tmp_path / "cat.png"), "--json"]) == 0
    top = last_json(capsys)["top"]
    assert len(top) == 5 and "cat" in top[0]["class"]
    assert main(["pretrained", "predict", str(tmp_path / "none.png")]) == 2
    assert "not a file" in capsys.readouterr().err


def test_federated_reports_every_round(capsys):
    assert main(["federated", "--clients", "4", "--split", "shards", "--rounds", "2",
                 "--json"]) == 0
    out = last_json(capsys)
    assert out["split"] == "shards" and len(out["history"]) == 2
    assert 0 < out["final_accuracy"] <= 1 and out["bytes_total"] > 0
    assert main(["federated", "--clients", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--clients" in err[0]


@pytest.mark.slow
def test_train_gcn_on_karate_club(capsys):
    assert main(["train", "--model", "gcn", "--dataset", "karate_club", "--epochs", "60",
                 "--no-record", "--json"]) == 0
    out = last_json(capsys)
    assert out["status"] == "completed" and out["test_accuracy"] > 0.4
    assert out["model_spec"]["family"] == "gcn"


def test_lab_without_a_subcommand_is_one_line(capsys):
    assert main(["lab"]) == 2
    assert "mnist-grid" in capsys.readouterr().err
