"""The README's runnable examples still run (the docs stay true)."""

from pathlib import Path

import pytest

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def python_block_after(heading: str) -> str:
    start = README.index("```python", README.index(heading)) + len("```python")
    return README[start:README.index("```", start)]


@pytest.mark.parametrize("heading", ["## Engine API", "### Responsible AI", "### Runs and saved"])
def test_readme_example_runs(heading, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # the examples may write files (a TensorBoard folder)
    namespace: dict = {}
    exec(compile(python_block_after(heading), f"README {heading}", "exec"), namespace)  # noqa: S102
    if heading == "## Engine API":
        assert namespace["trainer"].status == "completed"
        assert namespace["trainer"].history[-1]["val_accuracy"] > 0.9
    elif heading == "### Runs and saved":
        loaded, entry = namespace["loaded"], namespace["entry"]
        assert loaded.record.to_dict() == entry.record.to_dict()
        assert namespace["store"].get(namespace["run_id"])["lesson"] == "notebook"
    else:
        assert 0 <= namespace["a"].demographic_parity_difference <= 1
        assert list(namespace["res"].table.index)[0] == "original"
