"""A workshop on loopback, without Docker: PostgreSQL (initdb + pg_ctl in a temporary folder, as the
postgres user when root), a Dask scheduler and one worker, two app replicas with the same cookie
secret and database URL, and HAProxy with deploy/haproxy.cfg in front; all started with
deploy/nnplay-serve.sh (as the Docker image does) and stopped at the end, whatever happens.

``Browser`` is one browser tab through the proxy, speaking Streamlit's own protocol over the
websocket (as bench/workshop_load.py does): its cookies (HAProxy's SERVERID, Streamlit's XSRF
cookie), a page run, buttons pressed by key, fragment reruns as the browser's timers send them,
and the texts, buttons and media URLs of what the server drew.
"""

from __future__ import annotations

import glob
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[2]
SERVE = ROOT / "deploy" / "nnplay-serve.sh"
APP_PORTS, PG_PORTS, DASK_PORTS = range(8830, 8900), range(5440, 5450), range(8786, 8791)
START_TIMEOUT_S = 180


def pytest_configure(config):
    config.addinivalue_line("markers", "deploy: starts PostgreSQL, Dask, app replicas and "
                                       "HAProxy on loopback (tests/deploy)")


def free_ports(ports: range, count: int) -> list[int]:
    found = []
    for port in ports:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as servers bind
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    pytest.fail(f"fewer than {count} free loopback ports in {ports.start}-{ports.stop - 1}")


def binary(pattern: str, what: str) -> str:
    found = sorted(glob.glob(pattern)) or [shutil.which(Path(pattern).name) or ""]
    if not found[-1]:
        pytest.fail(f"{what} is missing: `make test` (make postgres-haproxy) installs it")
    return found[-1]


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout_s: float = START_TIMEOUT_S):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{url} exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if urllib.request.urlopen(url, timeout=3).status == 200:
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {timeout_s:.0f} s:\n{log.read_text()[-3000:]}")


def wait_port(port: int, proc: subprocess.Popen, log: Path, timeout_s: float = START_TIMEOUT_S):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"port {port}: the process exited:\n{log.read_text()[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    pytest.fail(f"nothing listens on {port} after {timeout_s:.0f} s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    """Stop a process we started, and its children (its own process group)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


def as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def keep_logs(root: Path) -> None:
    """The last run's logs, for a person reading a failure: $TMPDIR/nnplay-workshop-logs."""
    kept = Path(tempfile.gettempdir()) / "nnplay-workshop-logs"
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir()
    for log in root.glob("*.log"):
        shutil.copy(log, kept / log.name)


def render_haproxy(app_ports: list[int]) -> str:
    """deploy/haproxy.cfg with the two loopback replicas in place of the compose service's
    server-template (and no Docker DNS resolvers)."""
    text = (ROOT / "deploy" / "haproxy.cfg").read_text()
    text = re.sub(r"\nresolvers docker\n(?:    .*\n)+", "\n", text)
    servers = "".join(f"    server app{k + 1} 127.0.0.1:{port} check\n"
                      for k, port in enumerate(app_ports))
    rendered, count = re.subn(r"    server-template .*\n", servers, text)
    assert count == 1, "deploy/haproxy.cfg should have one server-template line"
    return rendered


@pytest.fixture(scope="module")
def workshop():
    """The whole stack; yields its addresses and settings, stops everything at the end."""
    root = Path(tempfile.mkdtemp(prefix="nnplay_workshop_"))
    procs: list[subprocess.Popen] = []
    pg_ctl = binary("/usr/lib/postgresql/*/bin/pg_ctl", "PostgreSQL")
    initdb = str(Path(pg_ctl).with_name("initdb"))
    haproxy = binary("/usr/sbin/haproxy", "HAProxy")
    (pg_port,) = free_ports(PG_PORTS, 1)
    sched_port, sched_http, worker_port, nanny_port, worker_http = free_ports(DASK_PORTS, 5)
    app_ports = free_ports(APP_PORTS, 3)
    proxy_port, app_ports = app_ports[0], app_ports[1:]
    data = root / "pg"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    url = f"postgresql+psycopg://{user}@127.0.0.1:{pg_port}/postgres"
    env = {**os.environ, "PYTHON": sys.executable, "NNPLAY_ADDRESS": "127.0.0.1",
           "NNPLAY_DB": url, "NNPLAY_WORKSHOP": "1",
           "NNPLAY_INSTRUCTOR_TOKEN": secrets.token_hex(8),
           "NNPLAY_DASK": f"tcp://127.0.0.1:{sched_port}",
           "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(16),
           "NNPLAY_PROXY_BIND": f"127.0.0.1:{proxy_port}",
           "NNPLAY_COOKIE_KEY": secrets.token_hex(8), "NNPLAY_GREEN": "0",
           "DASK_SCHEDULER_PORT": str(sched_port), "OMP_NUM_THREADS": "1",
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    env.pop("NNPLAY_SHARED", None)

    def start(name: str, cmd: list[str], **extra) -> tuple[subprocess.Popen, Path]:
        log = root / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, cwd=ROOT, env={**env, **extra}, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)
        return proc, log

    with ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, root, ignore_errors=True)
        cleanup.callback(keep_logs, root)
        cleanup.callback(lambda: [stop(p) for p in reversed(procs)])
        subprocess.run(as_postgres([initdb, "-D", str(data), "-U", user, "-A", "trust",
                                    "--no-sync"]), check=True, capture_output=True, timeout=120)
        subprocess.run(as_postgres([pg_ctl, "-D", str(data), "-l", str(root / "pg.log"), "-w",
                                    "-t", "120", "-o", f"-c listen_addresses=127.0.0.1 "
                                    f"-p {pg_port} -k {root} -c fsync=off", "start"]),
                       check=True, capture_output=True, timeout=180)
        cleanup.callback(lambda: subprocess.run(
            as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True, timeout=60))
        scheduler, scheduler_log = start("scheduler", ["sh", str(SERVE), "scheduler"],
                                         DASK_HTTP_ADDRESS=f"127.0.0.1:{sched_http}")
        worker, worker_log = start("worker", ["sh", str(SERVE), "worker", "--worker-port",
                                              str(worker_port), "--nanny-port", str(nanny_port)],
                                   DASK_HTTP_ADDRESS=f"127.0.0.1:{worker_http}")
        apps = [start(f"app{k + 1}", ["sh", str(SERVE), "app"], NNPLAY_PORT=str(port))
                for k, port in enumerate(app_ports)]
        wait_port(sched_port, scheduler, scheduler_log)
        for (proc, log), port in zip(apps, app_ports):
            wait_http(f"http://127.0.0.1:{port}/_stcore/health", proc, log)
        config = root / "haproxy.cfg"
        config.write_text(render_haproxy(app_ports))
        check = subprocess.run([haproxy, "-c", "-f", str(config)], env=env, capture_output=True,
                               text=True, timeout=30)
        assert check.returncode == 0, check.stdout + check.stderr
        proxy, proxy_log = start("haproxy", [haproxy, "-db", "-f", str(config)])
        wait_http(f"http://127.0.0.1:{proxy_port}/_stcore/health", proxy, proxy_log)
        wait_port(worker_port, worker, worker_log)
        yield {"proxy": f"127.0.0.1:{proxy_port}", "db": url, "dask": env["NNPLAY_DASK"],
               "apps": app_ports, "token": env["NNPLAY_INSTRUCTOR_TOKEN"], "logs": root}


# ---- one browser tab through the proxy -------------------------------------------------------
class Browser:
    """A browser's cookies and one Streamlit session over the websocket, behind the proxy."""

    def __init__(self, proxy: str):
        self.proxy, self.cookies, self.replica = proxy, {}, ""
        self.ws = None
        self.lock = threading.Lock()
        self.page_hash, self.query, self.session_id = "", "", ""
        self.finished = 0
        self.buttons: dict[str, str] = {}      # widget key -> widget id
        self.texts: list[str] = []
        self.media: list[str] = []
        self.timers: dict[str, threading.Event] = {}
        self.closed = threading.Event()

    def __repr__(self) -> str:
        return f"Browser({self.replica!r}, session={self.session_id[:8]!r})"

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None, cookies: dict | None = None):
        """(status, headers, body) of one HTTP request through the proxy with this browser's
        cookies (or ``cookies``); Set-Cookie answers are kept."""
        host, port = self.proxy.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        jar = self.cookies if cookies is None else cookies
        try:
            conn.request(method, path, body=body, headers={
                **(headers or {}), "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        if cookies is None:   # this browser's own request: keep what the answer sets
            for header in response.headers.get_all("Set-Cookie") or ():
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";")[0]
            self.replica = response.headers.get("X-Nnplay-Replica", self.replica)
        return response.status, response.headers, data

    # ---- the websocket session -------------------------------------------------------------
    def open(self, page: str, timeout: float = 120) -> Browser:
        """Connect (landing on this browser's replica) and run ``page`` once."""
        if not self.cookies:
            self.request("GET", "/_stcore/health")
        self.ws = connect(f"ws://{self.proxy}/_stcore/stream", subprotocols=["streamlit"],
                          additional_headers={"Cookie": self.cookie_header()},
                          max_size=2**25, open_timeout=60)
        threading.Thread(target=self._read, daemon=True).start()
        self.run(page=page, timeout=timeout)
        return self

    def close(self) -> None:
        self.closed.set()
        for timer in self.timers.values():
            timer.set()
        if self.ws is not None:
            self.ws.close()

    def _send(self, page: str = "", trigger: str = "", fragment: str = "",
              values: dict | None = None) -> None:
        msg = BackMsg()
        rerun = msg.rerun_script
        if page:    # another page: by its name, as a click in the navigation does
            rerun.page_name = page
        else:
            rerun.query_string, rerun.page_script_hash = self.query, self.page_hash
        if trigger:
            rerun.widget_states.widgets.add(id=trigger, trigger_value=True)
        for key, value in (values or {}).items():     # text inputs, by widget key
            rerun.widget_states.widgets.add(id=self.buttons[key], string_value=value)
        if fragment:
            rerun.fragment_id, rerun.is_auto_rerun = fragment, True
        self.ws.send(msg.SerializeToString())

    def run(self, page: str = "", press: str = "", timeout: float = 120,
            values: dict | None = None) -> None:
        """A rerun (of ``page``, or pressing the button with key ``press``, with the text inputs
        keyed in ``values`` filled in); returns when the script has finished."""
        with self.lock:
            before = self.finished
            self.texts, self.media = [], []
        self._send(page=page, trigger=self.buttons[press] if press else "", values=values)
        self.wait(lambda: self.finished > before, timeout, f"the run of {page or press}")

    def wait(self, condition, timeout: float, what: str) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if condition():
                return
            time.sleep(0.1)
        raise AssertionError(f"{self}: {what} did not happen within {timeout:.0f} s; "
                             f"texts: {self.texts[-10:]}")

    def text(self) -> str:
        with self.lock:
            return "\n".join(self.texts)

    def _auto_rerun(self, fragment: str, interval: float, stop_event: threading.Event) -> None:
        while not stop_event.wait(interval):
            try:
                self._send(fragment=fragment)
            except Exception:  # noqa: BLE001 - the socket closed
                return

    def _read(self) -> None:
        try:
            for raw in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                self._handle(msg)
        except Exception:  # noqa: BLE001 - closed at the end of a test
            return

    def _handle(self, msg) -> None:
        kind = msg.WhichOneof("type")
        with self.lock:
            if kind == "new_session":
                self.session_id = msg.new_session.initialize.session_id
            elif kind == "navigation":
                self.page_hash = msg.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "script_finished" and msg.script_finished == 0:
                self.finished += 1      # a whole run (not a fragment's, not one cut short)
            elif kind == "auto_rerun" and msg.auto_rerun.fragment_id not in self.timers:
                stop_event = threading.Event()
                self.timers[msg.auto_rerun.fragment_id] = stop_event
                threading.Thread(target=self._auto_rerun, daemon=True, args=(
                    msg.auto_rerun.fragment_id, msg.auto_rerun.interval, stop_event)).start()
            elif kind == "stop_auto_rerun":
                for fragment in msg.stop_auto_rerun.fragment_ids:
                    if fragment in self.timers:
                        self.timers.pop(fragment).set()
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._element(msg.delta.new_element)

    def _element(self, element) -> None:
        which = element.WhichOneof("type")
        if which == "text_input":
            self.buttons[element.text_input.id.rsplit("-", 1)[-1]] = element.text_input.id
        elif which in ("button", "download_button", "form_submit_button"):
            widget = getattr(element, which)
            self.buttons[widget.id.rsplit("-", 1)[-1]] = widget.id
            if which == "download_button" and widget.url:
                self.media.append(widget.url)
        elif which in ("markdown", "alert", "toast", "text"):
            self.texts.append(getattr(element, which).body)
        elif which == "imgs":
            self.media += [img.url for img in element.imgs.imgs if img.url]


@pytest.fixture
def browsers(workshop):
    """browsers(n): n new browsers whose first requests went through the proxy, and whose
    sessions spread over the replicas as round-robin deals them; closed at the end."""
    made = []

    def make(n: int) -> list[Browser]:
        fresh = [Browser(workshop["proxy"]) for _ in range(n)]
        for browser in fresh:
            browser.request("GET", "/_stcore/health")
        made.extend(fresh)
        return fresh

    yield make
    for browser in made:
        browser.close()
