"""Start-up time and memory of a distributed executor for nnplay's long jobs: Dask or Ray.

    .venv/bin/python bench/executor_startup.py [--engine dask|ray|both] [--repeat 3]

For each engine: start a one-worker cluster on 127.0.0.1 the way deploy/ does (Dask: `dask
scheduler` + `dask worker --nthreads 1`; Ray: `ray start --head --num-cpus 1`), connect a client,
and time (1) until the client is connected, (2) until a first trivial task has come back, and (3)
until a first nnplay training task (a 2-16-2 MLP on 200 moons points, 5 epochs) has come back:
that one imports torch and nnplay in the worker. Memory is the resident set (RSS) of every process
the engine started, after the training task, summed. Everything is stopped by process id at the
end. Ray is measured only when `import ray` works (it is not an nnplay dependency; this benchmark
was run with it on PYTHONPATH from a separate folder).

Ports: Dask 8786-8787, Ray 8788-8790 and 8830-8860 (worker ports); loopback only.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def train_tiny() -> int:
    """A task that needs torch and nnplay in the worker: returns the epochs trained."""
    from nnplay import data
    from nnplay.train.quick import quick_trainer

    ds = data.load("moons", n=200, noise=0.1, seed=0)
    trainer = quick_trainer(ds, {"family": "mlp", "params": {"hidden": [16]}}, epochs=5)
    return trainer.fit().epoch


def one() -> int:
    """The trivial task."""
    return 1


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def pids_matching(words: tuple[str, ...], before: set[int]) -> list[int]:
    """Processes started since ``before`` whose command line names the engine (not this one)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in before or int(entry.name) == os.getpid():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(w in cmd for w in words):
            found.append(int(entry.name))
    return found


def descendants(roots: list[int]) -> list[int]:
    """``roots`` and every process below them (a Dask worker's nanny starts the worker)."""
    parent = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1]
                                              .split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(roots), list(roots)
    while frontier:
        pid = frontier.pop()
        for child, ppid in parent.items():
            if ppid == pid and child not in found:
                found.add(child)
                frontier.append(child)
    return sorted(found)


def all_pids() -> set[int]:
    return {int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()}


def stop(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    time.sleep(2)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def measure_dask() -> dict:
    from distributed import Client

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port",
                               "8786", "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL),
             subprocess.Popen([str(BIN / "dask"), "worker", "tcp://127.0.0.1:8786", "--nthreads",
                               "1", "--no-dashboard", "--host", "127.0.0.1",
                               "--memory-limit", "0"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    try:
        client = Client("tcp://127.0.0.1:8786", timeout=60)
        client.wait_for_workers(1, timeout=60)
        t_connect = time.perf_counter() - t0
        client.submit(one, pure=False).result(timeout=60)
        t_task = time.perf_counter() - t0
        client.submit(train_tiny, pure=False).result(timeout=120)
        t_train = time.perf_counter() - t0
        mem = rss_mb(descendants([p.pid for p in procs]))
        client.close()
    finally:
        stop(descendants([p.pid for p in procs])[::-1])
    return {"connect_s": t_connect, "first_task_s": t_task, "first_train_s": t_train,
            "rss_mb": mem}


def measure_ray() -> dict:
    import ray

    before = all_pids()
    tmp = tempfile.mkdtemp(prefix="nnplay_ray_")
    ray_bin = Path(ray.__file__).parents[1] / "bin" / "ray"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(Path(ray.__file__)
                                                                           .parents[1])]),
           "RAY_USAGE_STATS_ENABLED": "0"}
    t0 = time.perf_counter()
    try:
        subprocess.run([str(ray_bin) if ray_bin.exists() else "ray", "start", "--head",
                        "--num-cpus", "1", "--include-dashboard", "false",
                        "--node-ip-address", "127.0.0.1", "--port", "8788",
                        "--node-manager-port", "8789", "--object-manager-port", "8790",
                        "--ray-client-server-port", "8831", "--metrics-export-port", "8832",
                        "--dashboard-agent-listen-port", "8833",
                        "--dashboard-agent-grpc-port", "8834", "--runtime-env-agent-port", "8835",
                        "--min-worker-port", "8840", "--max-worker-port", "8860",
                        "--temp-dir", tmp, "--disable-usage-stats"],
                       env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=180)
        os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
        ray.init(address="127.0.0.1:8788", logging_level="ERROR", _node_ip_address="127.0.0.1",
                 runtime_env={"env_vars": {"PYTHONPATH": env["PYTHONPATH"]}})
        t_connect = time.perf_counter() - t0
        ray.get(ray.remote(one).remote(), timeout=120)
        t_task = time.perf_counter() - t0
        ray.get(ray.remote(train_tiny).remote(), timeout=180)
        t_train = time.perf_counter() - t0
        roots = pids_matching(("ray", "raylet", "gcs_server", tmp), before)
        mem = rss_mb(descendants(roots))
        ray.shutdown()
    finally:
        stop(descendants(pids_matching(("ray", "raylet", "gcs_server", tmp), before))[::-1])
    return {"connect_s": t_connect, "first_task_s": t_task, "first_train_s": t_train,
            "rss_mb": mem}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("dask", "ray", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engines = ("dask", "ray") if args.engine == "both" else (args.engine,)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| engine | connected (s) | first task (s) | first training task (s) | RSS of its "
          "processes (MB) |\n|---|---|---|---|---|")
    for engine in engines:
        if engine == "ray":
            try:
                import ray  # noqa: F401
            except ImportError:
                print("| ray | not installed | | | |")
                continue
        rows = [(measure_dask if engine == "dask" else measure_ray)() for _ in range(args.repeat)]
        med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        print(f"| {engine} | {med['connect_s']:.1f} | {med['first_task_s']:.1f} | "
              f"{med['first_train_s']:.1f} | {med['rss_mb']:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
