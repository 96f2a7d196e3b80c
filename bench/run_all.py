"""Run every benchmark in bench/, one after the other (`make bench`). Each prints its own ratios."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["playground_speed.py", "train_overhead.py", "families.py", "explain_speed.py",
         "production.py", "playground_refresh.py", "workshop_load.py"]


def main() -> int:
    failed = []
    for name in ORDER:
        print(f"\n=== {name}", flush=True)
        if subprocess.run([sys.executable, str(HERE / name)]).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
