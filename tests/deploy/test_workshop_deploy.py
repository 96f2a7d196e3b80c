"""The replicated workshop on loopback (tests/deploy/conftest.py starts it): HAProxy keeps each
browser on its replica for media and uploads; both replicas share the runs in PostgreSQL, and
their concurrent writes lose nothing (a learner lists their own runs, the instructor on either
replica every learner's); a Training-lab job submitted on a replica runs on the Dask
worker and comes back with its history; a broadcast reaches a learner on the other replica."""

from __future__ import annotations

import re
import threading
import uuid

import pytest

from nnplay.train.classroom import ClassStore
from nnplay.train.runs import RunStore

pytestmark = [pytest.mark.deploy, pytest.mark.slow]


def one_per_replica(browsers) -> tuple:
    """Two browsers whose sessions the proxy put on different replicas."""
    found = {}
    for browser in browsers(6):
        found.setdefault(browser.replica, browser)
        if len(found) == 2:
            return tuple(found.values())
    pytest.fail(f"the proxy sent six new browsers to one replica: {list(found)}")


def test_the_proxy_deals_new_browsers_out_and_keeps_each_on_its_replica(workshop, browsers):
    a, b = one_per_replica(browsers)
    assert a.cookies["SERVERID"] != b.cookies["SERVERID"]
    for browser in (a, b):
        replicas = {browser.request("GET", "/_stcore/health")[0] == 200 and browser.replica
                    for _ in range(4)}
        assert len(replicas) == 1        # sticky: every request of one browser, one replica


def test_media_and_uploads_reach_the_session_on_both_replicas(workshop, browsers):
    a, b = one_per_replica(browsers)
    for mine, other in ((a, b), (b, a)):
        mine.open("playground")             # a learner sees their own runs in a workshop
        mine.run(press="pg_step")
        mine.run(press="pg_save")
        mine.run(page="runs")
        assert mine.session_id and mine.media, mine.texts[-5:]
        media = mine.media[0]       # the run's JSON download: served like images, from memory
        assert mine.request("GET", media)[0] == 200
        if not other.session_id:    # the other replica has not made this file (yet)
            status, headers, _ = mine.request("GET", media, cookies=other.cookies)
            assert status == 404 and headers["X-Nnplay-Replica"] == other.replica
        xsrf = mine.cookies["_streamlit_xsrf"]
        path = f"/_stcore/upload_file/{mine.session_id}/{uuid.uuid4().hex}"
        body, content_type = multipart(b"x,y\n1,2\n")
        headers = {"X-Xsrftoken": xsrf, "Content-Type": content_type}
        status, _, text = mine.request("PUT", path, body, headers)
        assert status in (200, 204), text
        # an upload without the XSRF header is refused (protection stays on)
        assert mine.request("PUT", path, body, {"Content-Type": content_type})[0] == 403
        # and one sent to the other replica finds no such session there
        status, _, text = mine.request("PUT", path, body, headers,
                                       cookies={**mine.cookies, "SERVERID":
                                                other.cookies["SERVERID"]})
        assert status == 400 and b"session" in text


def multipart(data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"points.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode() + data + \
        f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_concurrent_saves_on_both_replicas_lose_nothing_and_each_lists_them(workshop, browsers):
    store = RunStore(workshop["db"])
    before = set(store.ids())
    learners = browsers(6)
    for browser in learners:
        browser.open("playground")
        browser.run(press="pg_step")
    assert len({b.replica for b in learners}) == 2

    def save(browser) -> None:
        browser.run(press="pg_save")

    threads = [threading.Thread(target=save, args=(b,)) for b in learners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    new = [store.get(i) for i in set(store.ids()) - before]
    assert len(new) == len(learners) and {r["lesson"] for r in new} == {"playground"}
    assert len({r["owner"] for r in new}) == len(learners)      # one run per learner, none lost
    assert all(r["owner"].startswith("browser-") and r["epochs_run"] == 1 for r in new)
    for browser in {b.replica: b for b in learners}.values():   # a workshop learner sees theirs
        browser.run(page="runs")
        shown = int(re.search(r"(\d+) runs? in", browser.text()).group(1))
        assert shown == 1, browser.text()
    # the instructor, on either replica, lists every learner's run, wherever it was saved
    board = ClassStore(store).exercises().iloc[0]
    assert board["learners"] >= len(learners)
    for instructor in one_per_replica(browsers):
        instructor.open("instructor")
        instructor.run(press="instructor_open", values={"instructor_token": workshop["token"]})
        instructor.wait(lambda b=instructor: "learners; each learner" in b.text(), 60,
                        "the class panel")
        assert f"{board['runs']} runs by {board['learners']} learners" in instructor.text()


def test_a_training_lab_job_runs_on_the_dask_worker_with_its_history(workshop, browsers):
    from distributed import Client

    (learner,) = browsers(1)
    learner.open("training_lab")
    learner.run(press="lab_train")
    learner.wait(lambda: "Stored as run" in learner.text(), 300, "the run's result")
    run_id = int(re.search(r"Stored as run (\d+)", learner.text()).group(1))
    record = RunStore(workshop["db"]).get(run_id)
    assert record["lesson"] == "training_lab" and record["status"] == "completed"
    assert record["epochs_run"] == 50 and [r["epoch"] for r in record["history"]] == \
        list(range(1, 51))
    with Client(workshop["dask"], timeout=30) as client:
        events = client.get_events()
    sent = [msg for topic, log in events.items() if topic.startswith("nnplay-progress-")
            for _, msg in log]
    kinds = {msg["kind"] for msg in sent}
    streamed = [row["epoch"] for msg in sent if msg["kind"] == "rows" for row in msg["rows"]]
    assert kinds == {"started", "rows"} and streamed[-1] == 50   # trained on the worker


def test_a_broadcast_reaches_a_learner_on_either_replica(workshop, browsers):
    ClassStore(RunStore(workshop["db"])).broadcast("Warm up on the XOR data",
                                                   "playground?dataset=xor")
    for browser in one_per_replica(browsers):
        browser.open("neuron")
        browser.wait(lambda b=browser: "Warm up on the XOR data" in b.text(), 30,
                     "the instructor's message")
