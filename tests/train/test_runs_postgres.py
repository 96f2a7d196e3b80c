"""The run store on a real PostgreSQL server (NNPLAY_DB as a database URL): the same API as on
SQLite, the schema created once when two stores open an empty database at the same time,
concurrent writers from several processes losing nothing, and a clear message for a wrong URL.

The server is Debian's PostgreSQL (`make test` installs it), started with initdb and pg_ctl in a
temporary directory on a loopback port, as the postgres user when the tests run as root, and
stopped at the end.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from nnplay.train.runs import RunStore, RunStoreError

pytestmark = pytest.mark.slow


def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name)]
    if not found or not found[-1]:
        pytest.fail(f"PostgreSQL's {name} is missing: `make test` installs Debian's postgresql")
    return found[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def postgres_url():
    """A throwaway PostgreSQL cluster on 127.0.0.1; yields a URL to an empty database."""
    root = Path(tempfile.mkdtemp(prefix="nnplay_pg_"))
    data, port = root / "data", free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    subprocess.run(as_postgres([pg_bin("initdb"), "-D", str(data), "-U", user, "-A", "trust",
                                "--no-sync"]), check=True, capture_output=True, timeout=120)
    subprocess.run(as_postgres([pg_bin("pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w",
                                "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {root} "
                                      "-c fsync=off", "start"]),
                   check=True, capture_output=True, timeout=120)
    try:
        subprocess.run(as_postgres([pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port),
                                    "-U", user, "nnplay"]), check=True, capture_output=True,
                       timeout=60)
        yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/nnplay"
    finally:
        subprocess.run(as_postgres([pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                                    "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def record(i: int, owner: str = "ada", lesson: str = "training_lab") -> dict:
    return {"lesson": lesson, "owner": owner, "name": f"run {i}", "status": "completed",
            "dataset": {"name": "moons", "task": "classification"},
            "model_spec": {"family": "mlp", "params": {}}, "metrics": {"test_accuracy": i / 100},
            "history": [{"epoch": 1, "loss": 0.5}], "epochs_run": 1, "duration_s": 0.1}


def test_the_store_works_the_same_on_postgresql(postgres_url, monkeypatch):
    monkeypatch.setenv("NNPLAY_DB", postgres_url)
    stores = []
    opened = [threading.Thread(target=lambda: stores.append(RunStore())) for _ in range(4)]
    for t in opened:              # four stores create the schema at once: exactly one table
        t.start()
    for t in opened:
        t.join()
    assert len(stores) == 4 and stores[0].dialect == "postgresql" and stores[0].path is None
    store = stores[0]
    first = store.save(record(1))
    assert store.get(first)["name"] == "run 1" and store.get(first)["owner"] == "ada"
    other = store.save(record(2, owner="bob", lesson="playground"))
    table = store.list(order_by="test_accuracy")
    assert list(table["id"])[:2] == [other, first]
    assert list(store.list(owner="bob")["id"]) == [other]
    assert store.distinct("owner") == ["ada", "bob"]
    with pytest.raises(ValueError, match="belongs to bob"):
        store.delete(other, owner="ada")
    assert store.delete(other, owner="bob") and other not in store.ids()
    assert "password" not in repr(store) and "postgresql+psycopg://" in store.location


WRITER = """
import sys
from nnplay.train.runs import RunStore
store = RunStore(sys.argv[1])
for i in range(int(sys.argv[3])):
    store.save({"lesson": "cli", "owner": sys.argv[2], "name": f"w{i}", "status": "completed",
                "dataset": {"name": "moons"}, "metrics": {}, "history": []})
"""


def test_concurrent_writers_from_several_processes_lose_nothing(postgres_url):
    store = RunStore(postgres_url)
    before = len(store)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, postgres_url, f"writer{k}", "25"])
             for k in range(3)]
    threads = [threading.Thread(target=lambda k=k: [store.save(record(i, owner=f"thread{k}"))
                                                     for i in range(25)]) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(p.wait(timeout=120) == 0 for p in procs)
    assert len(store) == before + 5 * 25
    for who in ("writer0", "writer1", "writer2", "thread0", "thread1"):
        assert len(store.list(owner=who)) == 25


@pytest.mark.parametrize("url, says", [
    ("postgresql+psycopg://nobody:secret@127.0.0.1:1/none", "check that the server is running"),
    ("mysql+nodriver://x@127.0.0.1/db", "cannot be used"),
    ("not-a-dialect://x", "cannot be used"),
])
def test_a_wrong_database_url_is_a_clear_message_without_the_password(url, says):
    with pytest.raises(RunStoreError, match=says) as err:
        RunStore(url)
    assert "secret" not in str(err.value) and "NNPLAY_DB" in str(err.value)
