"""Start a Streamlit server for a benchmark: on 127.0.0.1, its own runs database, stopped by the
caller (``proc.kill()``). Shared by playground_refresh.py and workshop_load.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def start_streamlit(script: Path, cwd: Path, port: int, db: Path, log,
                    timeout_s: float = 120) -> subprocess.Popen:
    """Run ``streamlit run script`` and return once its health check answers (RuntimeError if
    it never does; the process is killed then)."""
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", "NNPLAY_DB": str(db)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                      timeout=2).status == 200:
                return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"the streamlit server on port {port} did not start within {timeout_s:.0f} s")
