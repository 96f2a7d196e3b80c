"""A workshop on one server: N simulated learners press Play on the Playground at once.

    .venv/bin/python bench/workshop_load.py [--learners 1,5,10,20,30] [--seconds 20] [--root DIR]
                                            [--servers 1] [--proxy] [--workshop] [--ports A-B]

Starts `streamlit run app.py` from ``--root`` (default: this checkout) on 127.0.0.1 (a free port
in 8670-8679, ``NNPLAY_DB`` in a temp folder) and stops it at the end; ``--servers 2`` starts two
such processes (sharing the run store) and deals the learners out in turn, as a sticky proxy
would: what a second process adds. ``--proxy`` puts HAProxy with deploy/haproxy.cfg in front of
them, as a workshop does: each learner first gets its SERVERID cookie from the proxy and sends it
with the websocket and every media request, so the proxy's stickiness and its own cost are in the
numbers (its CPU is a column of its own). ``--workshop`` starts the servers in workshop mode
(NNPLAY_WORKSHOP=1: a name box, presence and the instructor's banner polled on every page).
``--ports`` moves the ports used (servers and proxy). Each learner is a
websocket client that speaks Streamlit's own protocol, as the browser does: it connects to
``/_stcore/stream``, sends a ``rerun_script`` BackMsg for the ``playground`` page, finds the
Play button (key ``pg_play``) in the deltas and presses it (a rerun whose widget states carry the
button's trigger value), then, like the browser's ``setInterval``, sends a fragment rerun every
``auto_rerun.interval`` seconds. It GETs every media URL (live images) as soon as a delta names
it. Over a common window of ``--seconds`` it counts, per learner, the refreshes (deltas carrying
the Epoch metric) and the epochs the counter advanced, and the non-200 media responses; the
server's CPU comes from /proc. Widgets other than the pressed button are not sent (the server
keeps their previous values), and no cached-message hashes are sent.

Bounded: at most 30 learners, windows of at most 30 s, loopback only. The client shares the
machine with the server, so its own CPU is printed too; ratios between rows of one run are more
trustworthy than absolute numbers on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import websockets
from appserver import start_streamlit  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[1]
PORTS = range(8670, 8680)
HAPROXY = "/usr/sbin/haproxy"
MAX_LEARNERS, MAX_SECONDS = 30, 30
PAGE, PLAY_KEY, EPOCH_LABEL = "playground", "pg_play", "Epoch"


def free_port(ports: range = PORTS, taken: tuple[int, ...] = ()) -> int:
    for port in ports:
        if port in taken:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def start_server(root: Path, port: int, workdir: Path, name: str = "server") -> subprocess.Popen:
    """One app process on ``port``; every process of a run shares workdir's run store."""
    log = workdir / f"{name}.log"
    try:
        return start_streamlit(root / "app.py", root, port, workdir / "runs.sqlite",
                               open(log, "wb"))
    except RuntimeError as err:
        raise RuntimeError(f"{err}; see {log}") from None


def start_proxy(root: Path, port: int, app_ports: list[int], workdir: Path) -> subprocess.Popen:
    """HAProxy on ``port`` with deploy/haproxy.cfg, its servers the app processes on loopback
    (in place of the compose service's server-template and Docker's resolver)."""
    haproxy = HAPROXY if Path(HAPROXY).exists() else shutil.which("haproxy")
    if not haproxy:
        raise RuntimeError("haproxy is missing: make postgres-haproxy installs Debian's")
    text = (root / "deploy" / "haproxy.cfg").read_text()
    text = re.sub(r"\nresolvers docker\n(?:    .*\n)+", "\n", text)
    text = re.sub(r"    server-template .*\n", "".join(
        f"    server app{k + 1} 127.0.0.1:{p} check\n" for k, p in enumerate(app_ports)), text)
    config = workdir / "haproxy.cfg"
    config.write_text(text)
    env = {**os.environ, "NNPLAY_PROXY_BIND": f"127.0.0.1:{port}",
           "NNPLAY_COOKIE_KEY": os.urandom(8).hex()}
    proc = subprocess.Popen([haproxy, "-db", "-f", str(config)], env=env,
                            stdout=open(workdir / "haproxy.log", "wb"), stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                      timeout=2).status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"haproxy did not answer on {port}; see {workdir / 'haproxy.log'}")


def server_cookie(port: int) -> str:
    """A new browser's cookies from the proxy: the SERVERID that pins it to one app process."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=30) as answer:
        cookies = [h.split(";")[0] for h in answer.headers.get_all("Set-Cookie") or ()]
    return "; ".join(cookies)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process, from /proc (psutil is not a dependency)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def http_status(port: int, path: str, cookie: str = "") -> int:
    """The status code of one GET on loopback (a media file, as the browser's <img> asks)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        cookie_line = f"Cookie: {cookie}\r\n" if cookie else ""
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{cookie_line}"
                     "Connection: close\r\n\r\n".encode())
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        while await reader.read(65536):
            pass
        return status
    finally:
        writer.close()


class Learner:
    """One simulated browser tab on the Playground: loads it, presses Play, counts refreshes."""

    def __init__(self, port: int, behind_proxy: bool = False):
        self.port, self.ws, self.behind_proxy, self.cookie = port, None, behind_proxy, ""
        self.page_hash, self.query, self.play_id = "", "", None
        self.ready = asyncio.Event()   # a run finished with the Play button drawn
        self.epochs: list[tuple[float, int]] = []   # (time, epoch shown) for each refresh
        self.media_ok = self.media_failed = 0
        self.timers: dict[str, asyncio.Task] = {}
        self.tasks: set[asyncio.Task] = set()

    def __repr__(self) -> str:
        return f"Learner(port={self.port}, refreshes={len(self.epochs)})"

    async def send_rerun(self, trigger: str | None = None, fragment_id: str = "") -> None:
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string, rerun.page_name = self.query, PAGE
        rerun.page_script_hash = self.page_hash
        if trigger:
            rerun.widget_states.widgets.add(id=trigger, trigger_value=True)
        if fragment_id:
            rerun.fragment_id, rerun.is_auto_rerun = fragment_id, True
        await self.ws.send(msg.SerializeToString())

    async def auto_rerun(self, fragment_id: str, interval: float) -> None:
        while True:                                 # the browser's setInterval
            await asyncio.sleep(interval)
            await self.send_rerun(fragment_id=fragment_id)

    async def fetch_media(self, url: str) -> None:
        path = url if url.startswith("/") else "/" + url
        try:
            ok = await http_status(self.port, path, self.cookie) == 200
        except (OSError, ValueError, IndexError):
            ok = False
        if ok:
            self.media_ok += 1
        else:
            self.media_failed += 1

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "navigation":             # st.navigation names the page it ran
            self.page_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":   # the page rewrote the URL: send it back, as a tab does
            self.query = msg.page_info_changed.query_string
        elif kind == "script_finished" and self.play_id and msg.script_finished == 0:
            self.ready.set()      # (the first run can end early: st.navigation reruns it)
        elif kind == "auto_rerun" and msg.auto_rerun.fragment_id not in self.timers:
            rerun = msg.auto_rerun
            self.timers[rerun.fragment_id] = self.spawn(self.auto_rerun(rerun.fragment_id,
                                                                        rerun.interval))
        elif kind == "stop_auto_rerun":
            for fragment_id in msg.stop_auto_rerun.fragment_ids:
                if fragment_id in self.timers:
                    self.timers.pop(fragment_id).cancel()
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            which = element.WhichOneof("type")
            if which == "button" and element.button.id.endswith(PLAY_KEY):
                self.play_id = element.button.id
            elif which == "metric" and element.metric.label == EPOCH_LABEL:
                self.epochs.append((time.monotonic(), int(element.metric.body.replace(",", ""))))
            elif which == "imgs":
                for img in element.imgs.imgs:
                    if img.url and not img.url.startswith("data:"):
                        self.spawn(self.fetch_media(img.url))

    async def reader(self) -> None:
        async for raw in self.ws:
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            self.handle(msg)

    async def start(self, timeout: float) -> None:
        """Open the page and press Play (behind a proxy: with the cookie it gave this browser)."""
        if self.behind_proxy:
            self.cookie = await asyncio.to_thread(server_cookie, self.port)
        self.ws = await websockets.connect(f"ws://127.0.0.1:{self.port}/_stcore/stream",
                                           subprotocols=["streamlit"], max_size=2**24,
                                           open_timeout=timeout,
                                           additional_headers={"Cookie": self.cookie}
                                           if self.cookie else None)
        self.spawn(self.reader())
        await self.send_rerun()
        try:
            await asyncio.wait_for(self.ready.wait(), timeout)
        except TimeoutError:
            raise RuntimeError("no Play button (key 'pg_play') in the Playground's deltas") from None
        await self.send_rerun(trigger=self.play_id)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await self.ws.close()

    def rates(self, t0: float, t1: float) -> tuple[float, float]:
        """Refreshes/s and epochs/s inside the window [t0, t1]."""
        inside = [(t, e) for t, e in self.epochs if t0 <= t <= t1]
        before = [e for t, e in self.epochs if t < t0]
        if not inside:
            return 0.0, 0.0
        start = before[-1] if before else inside[0][1]
        return len(inside) / (t1 - t0), (inside[-1][1] - start) / (t1 - t0)


async def one_level(ports: list[int], pids: list[int], n: int, seconds: float,
                    warmup: float, proxy: tuple[int, int] | None = None) -> dict:
    """One measured window with ``n`` learners; ``proxy`` = (port, pid) to go through HAProxy."""
    if proxy is None:
        learners = [Learner(ports[k % len(ports)]) for k in range(n)]
    else:
        learners = [Learner(proxy[0], behind_proxy=True) for _ in range(n)]

    def server_cpu() -> float:
        return sum(cpu_seconds(pid) for pid in pids)

    def proxy_cpu() -> float:
        return cpu_seconds(proxy[1]) if proxy is not None else 0.0

    try:
        await asyncio.gather(*(lr.start(timeout=60 + 6 * n) for lr in learners))
        await asyncio.sleep(warmup)                 # every learner is playing by now
        t0, cpu0, me0, px0 = time.monotonic(), server_cpu(), time.process_time(), proxy_cpu()
        failed0 = sum(lr.media_failed for lr in learners)
        ok0 = sum(lr.media_ok for lr in learners)
        await asyncio.sleep(seconds)
        t1, cpu1, me1, px1 = time.monotonic(), server_cpu(), time.process_time(), proxy_cpu()
        failed = sum(lr.media_failed for lr in learners) - failed0
        ok = sum(lr.media_ok for lr in learners) - ok0
    finally:
        await asyncio.gather(*(lr.close() for lr in learners if lr.ws), return_exceptions=True)
    refreshes, epochs = zip(*(lr.rates(t0, t1) for lr in learners))
    return {"n": n, "refresh_min": min(refreshes), "refresh_med": statistics.median(refreshes),
            "epochs_min": min(epochs), "epochs_med": statistics.median(epochs),
            "media_failed": failed, "media_total": failed + ok,
            "server_cpu": (cpu1 - cpu0) / (t1 - t0), "client_cpu": (me1 - me0) / (t1 - t0),
            "proxy_cpu": (px1 - px0) / (t1 - t0),
            "learners_per_server": statistics.mean(
                [sum(1 for lr in learners if lr.cookie == c) for c in {lr.cookie for lr in learners}]
            ) if proxy is not None else n / len(ports)}


def table(rows: list[dict]) -> str:
    lines = ["| learners | refreshes/s per learner (min / median) | epochs/s per learner "
             "(min / median) | failed media requests | server CPU (cores) | proxy CPU (cores) | "
             "client CPU (cores) |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['n']} | {r['refresh_min']:.1f} / {r['refresh_med']:.1f} | "
                     f"{r['epochs_min']:.1f} / {r['epochs_med']:.1f} | "
                     f"{r['media_failed']} of {r['media_total']} | {r['server_cpu']:.2f} | "
                     f"{r['proxy_cpu']:.2f} | {r['client_cpu']:.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", default="1,5,10,20,30",
                        help=f"comma-separated learner counts, each at most {MAX_LEARNERS}")
    parser.add_argument("--seconds", type=float, default=20,
                        help=f"measured window per count, at most {MAX_SECONDS}")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of play before measuring")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve")
    parser.add_argument("--servers", type=int, default=1,
                        help="server processes (1-4), learners dealt out in turn")
    parser.add_argument("--proxy", action="store_true",
                        help="HAProxy (deploy/haproxy.cfg) in front of the servers")
    parser.add_argument("--workshop", action="store_true",
                        help="servers in workshop mode (NNPLAY_WORKSHOP=1)")
    parser.add_argument("--ports", default=f"{PORTS.start}-{PORTS.stop - 1}",
                        help="loopback ports to use, e.g. 8840-8859")
    args = parser.parse_args()
    low, _, high = args.ports.partition("-")
    ports_range = range(int(low), int(high or low) + 1)
    if args.workshop:
        os.environ["NNPLAY_WORKSHOP"] = "1"
    counts = [int(c) for c in args.learners.split(",")]
    if not all(1 <= c <= MAX_LEARNERS for c in counts) or not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"learners must be 1-{MAX_LEARNERS} and seconds 0-{MAX_SECONDS}")
    if not 1 <= args.servers <= 4:
        parser.error("servers must be 1 to 4")
    workdir = Path(tempfile.mkdtemp(prefix="nnplay_workshop_load_"))
    servers, ports = [], []
    rows = []
    proxy = None
    try:
        for k in range(args.servers):
            ports.append(free_port(ports_range, tuple(ports)))
            servers.append(start_server(args.root.resolve(), ports[-1], workdir, f"server{k}"))
        if args.proxy:
            proxy_port = free_port(ports_range, tuple(ports))
            proxy = start_proxy(args.root.resolve(), proxy_port, ports, workdir)
        for n in counts:
            row = asyncio.run(one_level(ports, [s.pid for s in servers], n, args.seconds,
                                        args.warmup,
                                        None if proxy is None else (proxy_port, proxy.pid)))
            rows.append(row)
            print(f"{n} learners: {row}", flush=True)
            time.sleep(2)                           # let the last runs of this level finish
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.wait(timeout=20)
        for server in servers:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    what = "one server process" if args.servers == 1 else f"{args.servers} server processes"
    what += " behind HAProxy" if args.proxy else ""
    what += ", workshop mode" if args.workshop else ""
    print(f"\nPlayground, default settings, {what}, {args.seconds:g} s per row "
          f"(server logs under {workdir})\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
