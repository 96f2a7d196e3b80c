"""`nnplay export`, `nnplay drift` and `nnplay compress` on a model saved by `nnplay train --save`:
a readable summary, one JSON line with --json, one line and exit 2 for what a person can fix."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from nnplay.cli import main


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli") / "model"
    assert main(["train", "--dataset", "moons", "--hidden", "16", "--epochs", "20", "--no-record",
                 "--save", str(folder)]) == 0
    return folder


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.parametrize("fmt, suffix", [("onnx", ".onnx"), ("torch-export", ".pt2")])
def test_export_writes_a_verified_file(saved, tmp_path, capsys, fmt, suffix):
    capsys.readouterr()
    out = tmp_path / f"model{suffix}"
    assert main(["export", str(saved), "--format", fmt, "--out", str(out), "--json"]) == 0
    report = last_json(capsys)
    assert report["path"] == str(out) and out.stat().st_size == report["size_bytes"] > 0
    assert report["verified"] and report["max_abs_diff"] <= 1e-4


def test_export_of_a_folder_without_a_model_is_one_line(tmp_path, capsys):
    assert main(["export", str(tmp_path), "--out", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nnplay train --save" in err[0]


def write(path, frame) -> str:
    frame.to_csv(path, index=False)
    return str(path)


def test_drift_flags_the_shifted_column_only(tmp_path, capsys):
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"age": rng.normal(40, 10, 800), "plan": rng.integers(0, 3, 800)})
    cur = pd.DataFrame({"age": rng.normal(48, 10, 800), "plan": rng.integers(0, 3, 800)})
    assert main(["drift", "--reference", write(tmp_path / "r.csv", ref), "--current",
                 write(tmp_path / "c.csv", cur), "--json"]) == 0
    report = last_json(capsys)
    cols = report["columns"]
    assert cols["age"]["drifted"] and cols["age"]["test"] == "ks" and cols["age"]["p_value"] < 1e-6
    assert not cols["plan"]["drifted"] and cols["plan"]["p_value"] is not None
    assert report["dataset_drifted"]        # 1 of 2 columns reaches the default share of 0.5
    for col in cols.values():
        assert {"test", "statistic", "p_value", "threshold", "drifted"} <= set(col)


@pytest.mark.parametrize("content, message", [("a,b\n1,2,3\n\"open", "not a readable CSV"),
                                              ("", "not a readable CSV")])
def test_drift_on_a_broken_csv_is_one_line(tmp_path, capsys, content, message):
    good = write(tmp_path / "r.csv", pd.DataFrame({"a": [1.0, 2.0, 3.0]}))
    (tmp_path / "bad.csv").write_text(content)
    assert main(["drift", "--reference", good, "--current", str(tmp_path / "bad.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert main(["drift", "--reference", good, "--current", str(tmp_path / "none.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_compress_reports_before_and_after_and_saves_a_loadable_pruned_model(saved, tmp_path,
                                                                            capsys):
    from nnplay.models import modelio

    capsys.readouterr()
    out = tmp_path / "pruned"
    assert main(["compress", str(saved), "--quantize", "none", "--prune", "0.5", "--structured",
                 "--out", str(out), "--json"]) == 0
    report = last_json(capsys)
    assert report["n_params"]["after"] < report["n_params"]["before"]
    assert report["size_bytes"]["after"] < report["size_bytes"]["before"]
    assert 0.5 <= report["metric"]["after"] <= 1.0 and report["metric"]["name"] == "accuracy"
    for batch in ("batch_1", "batch_64"):
        assert report["latency_ms"][batch]["before"] > 0 and report["latency_ms"][batch]["after"] > 0
    loaded = modelio.load_dir(out)            # a pruned network is an nnplay model again
    assert loaded.record.spec.params["hidden"] == [8]
    assert main(["export", str(out), "--out", str(tmp_path / "p.onnx")]) == 0


def test_compress_int8_writes_an_exported_program_and_bad_amounts_are_one_line(saved, tmp_path,
                                                                              capsys):
    capsys.readouterr()
    assert main(["compress", str(saved), "--quantize", "dynamic-int8", "--out",
                 str(tmp_path / "q"), "--json"]) == 0
    report = last_json(capsys)
    assert report["quantize"] == "dynamic-int8" and report["max_abs_diff"] < 0.5
    assert (tmp_path / "q" / "model.pt2").is_file() or "not_saved" in report
    assert main(["compress", str(saved), "--prune", "1.5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--prune" in err[0]
