"""The engine never needs Streamlit: import every engine module with streamlit blocked."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def engine_modules() -> list[str]:
    mods = []
    for path in sorted((ROOT / "nnplay").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if "ui" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts[-1] == "__main__":
            continue
        mods.append(".".join(parts))
    return mods


def test_engine_modules_import_without_streamlit():
    mods = engine_modules()
    assert "nnplay.train.trainer" in mods and "nnplay.ui.widgets" not in mods
    code = ("import sys, importlib\n"
            "sys.modules['streamlit'] = None  # any 'import streamlit' now raises ImportError\n"
            f"for m in {mods!r}:\n"
            "    importlib.import_module(m)\n"
            "print('ok', len(sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("ok")


def test_blocking_really_blocks():
    code = "import sys; sys.modules['streamlit'] = None\nimport nnplay.ui.state\n"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode != 0
    assert "ImportError" in out.stderr or "ModuleNotFoundError" in out.stderr
