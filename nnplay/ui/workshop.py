"""Workshop mode in the app (NNPLAY_WORKSHOP=1): a learner's name and the instructor's messages on
every page, and the instructor page's panels.

The class lives in the database (nnplay.train.classroom), so every replica behind the proxy sees
the same names, presence and broadcasts. A learner's page polls for a new broadcast every few
seconds in a small fragment; each app process reads the database for it at most once per
CACHE_S, however many learners it serves. Names and messages are shown through widgets that
escape them (st.text), or in tables (st.table, whose cells are Markdown) with every Markdown
character escaped; never as HTML.
"""

from __future__ import annotations

import hmac
import os
import string
import threading
import time

import pandas as pd
import streamlit as st

from nnplay.plots import instructor as instructor_plots
from nnplay.train import classroom, runs
from nnplay.ui import owner

TOKEN_ENV = "NNPLAY_INSTRUCTOR_TOKEN"
POLL_S = 5           # a learner's page looks for a new broadcast this often
CACHE_S = 2.0        # ... and its process asks the database at most this often
SEEN_EVERY_S = 20    # a learner's presence is written at most this often
BOARD_ROWS = 30     # rows of a leaderboard on the instructor page
NAME_KEY, SEEN_KEY, READ_KEY = "workshop_name", "workshop_seen_at", "workshop_read_id"
INSTRUCTOR_KEY = "workshop_instructor_ok"

_stores: dict[str, classroom.ClassStore] = {}
_cache: dict[str, tuple[float, object]] = {}
_lock = threading.Lock()


def workshop_mode() -> bool:
    return owner.workshop_mode()


def class_store() -> classroom.ClassStore:
    """The ClassStore of the run store's database, one per process."""
    where = str(runs.default_location())
    with _lock:
        if where not in _stores:
            _stores[where] = classroom.ClassStore(runs.RunStore())
        return _stores[where]


def _cached(name: str, compute, max_age_s: float = CACHE_S):
    """``compute()``, shared by every session of this process for ``max_age_s`` seconds."""
    key = f"{runs.default_location()}:{name}"
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit is not None and now - hit[0] < max_age_s:
        return hit[1]
    value = compute()
    with _lock:
        _cache[key] = (now, value)
    return value


def display_names() -> dict[str, str]:
    """Owner id -> display name, for labels (at most CACHE_S old)."""
    try:
        return _cached("names", lambda: class_store().names())
    except (classroom.ClassStoreError, runs.RunStoreError):
        return {}


def latest_message() -> dict | None:
    return _cached("message", lambda: class_store().latest_message())


def plain(text) -> str:
    """``text`` for a Markdown cell, shown exactly as typed: every ASCII punctuation character
    escaped, so a name cannot become a link, an image, a directive or formatting."""
    return "".join("\\" + ch if ch in string.punctuation else ch for ch in str(text))


def token_matches(given: str, expected: str | None = None) -> bool:
    """Whether ``given`` is the instructor token (constant-time; False when none is set)."""
    expected = os.environ.get(TOKEN_ENV, "") if expected is None else expected
    return bool(expected) and hmac.compare_digest(str(given).encode(), expected.encode())


# ---- every page, for a learner ---------------------------------------------------------------
def learner_panel(page_title: str = "") -> None:
    """In workshop mode: who you are (a name to choose the first time), your presence, and the
    instructor's latest message at the top of the page. Does nothing on a laptop."""
    if not workshop_mode():
        return
    me = owner.owner_id()
    try:
        store = class_store()
        now = time.monotonic()
        if now - st.session_state.get(SEEN_KEY, -SEEN_EVERY_S) >= SEEN_EVERY_S:
            store.seen(me, page_title)
            st.session_state[SEEN_KEY] = now
        if NAME_KEY not in st.session_state:
            st.session_state[NAME_KEY] = store.name_of(me)
    except (classroom.ClassStoreError, runs.RunStoreError) as err:
        st.sidebar.warning(f"Workshop features are unavailable: {err}")
        return
    with st.sidebar:
        name_box(store, me)
        class_leaderboard(store, me)
    st.fragment(message_banner, run_every=POLL_S)()


def name_box(store: classroom.ClassStore, me: str) -> None:
    name = st.session_state.get(NAME_KEY, "")
    if name:
        st.text(f"Workshop: you are {name}")
        return
    with st.form("workshop_name_form", border=True):
        typed = st.text_input("Your name for this workshop", max_chars=classroom.NAME_MAX,
                              placeholder="e.g. Ada", key="workshop_name_input",
                              help="Shown on the class leaderboard and to your instructor.")
        if st.form_submit_button("Use this name"):
            try:
                st.session_state[NAME_KEY] = store.set_name(me, typed)
                with _lock:
                    _cache.pop(f"{runs.default_location()}:names", None)
                st.rerun()
            except (ValueError, classroom.ClassStoreError) as err:
                st.error(str(err))


def class_leaderboard(store: classroom.ClassStore, me: str) -> None:
    """The leaderboard of the exercise the instructor shared last, in an expander."""
    message = latest_message()
    exercise = (message or {}).get("exercise")
    if not exercise:
        return
    with st.expander("Class leaderboard"):
        table = _cached(f"board:{exercise}",
                        lambda: store.leaderboard(exercise, display_names()), max_age_s=POLL_S)
        if table.empty:
            st.caption("No runs on this exercise yet: be the first.")
            return
        mine = table.assign(learner=[f"{n} (you)" if o == me else n
                                     for n, o in zip(table["learner"], table["owner"])])
        st.table(leaderboard_view(mine.head(10)).set_index("Rank"))


def message_banner() -> None:
    """The instructor's latest message (polled); a toast the first time it arrives."""
    try:
        message = latest_message()
    except (classroom.ClassStoreError, runs.RunStoreError):
        return
    if not message:
        return
    if st.session_state.get(READ_KEY) != message["id"]:
        st.session_state[READ_KEY] = message["id"]
        st.toast(f"Message from your instructor: {message['text'] or 'a new exercise'}",
                 icon=":material/campaign:")
    with st.container(border=True):
        st.info(f"**From your instructor:** {message['text']}" if message["text"]
                else "**From your instructor:** a new exercise.", icon=":material/campaign:")
        if message["link"]:
            st.link_button("Open the exercise", message["link"], icon=":material/open_in_new:")


# ---- the instructor page's panels ------------------------------------------------------------
def leaderboard_view(table: pd.DataFrame) -> pd.DataFrame:
    """A leaderboard formatted for a person: losses to 4 digits, accuracy as a percentage."""
    view = pd.DataFrame({
        "Rank": table["rank"], "Learner": [plain(n) for n in table["learner"]],
        "Test loss": [_number(v, "{:.4f}") for v in table["test_loss"]],
        "Test accuracy": [_number(v, "{:.1%}") for v in table["test_accuracy"]],
        "Model": [plain(m) for m in table["model"]], "Epochs": [_number(v, "{:,.0f}") for v in table["epochs"]]})
    if view["Test accuracy"].eq("–").all():
        view = view.drop(columns="Test accuracy")
    return view


def active_view(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"Learner": [plain(n) for n in table["learner"]],
                         "Page": [plain(p) for p in table["page"]],
                         "Last seen": [f"{s:.0f} s ago" if s < 120 else f"{s / 60:.0f} min ago"
                                       for s in table["seen_s_ago"]],
                         "Runs stored": table["runs"]})


def _number(value, pattern: str) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return "–"
    if value != value:
        return "–"
    return pattern.format(value) if abs(value) != float("inf") else "diverged"


def instructor_signed_in() -> bool:
    """The token form until the right token was given in this session; True after."""
    if st.session_state.get(INSTRUCTOR_KEY):
        return True
    with st.form("instructor_token_form"):
        given = st.text_input("Instructor token", type="password", key="instructor_token",
                              help=f"The value of {TOKEN_ENV} on the server.")
        if st.form_submit_button("Open the class", key="instructor_open"):
            if token_matches(given):
                st.session_state[INSTRUCTOR_KEY] = True
                st.session_state.pop("instructor_token", None)
                st.rerun()
            st.error("That is not the instructor token.")
    return False


def broadcast_form(store: classroom.ClassStore, exercises: pd.DataFrame) -> None:
    """A message, an exercise link and the leaderboard learners see, sent to the whole class."""
    labels = {"": "none", **dict(zip(exercises["exercise"], exercises["label"]))}
    with st.form("instructor_broadcast", clear_on_submit=True):
        text = st.text_input("Message", max_chars=classroom.TEXT_MAX,
                             placeholder="Beat a test loss of 0.1 on the spiral")
        link = st.text_input("Exercise link", placeholder="playground?dataset=spiral&noise=10",
                             help="A page of this app with its settings (the Playground builds "
                                  "such links), or an http(s) URL.")
        board = st.selectbox("Leaderboard learners see", list(labels), format_func=labels.get)
        if st.form_submit_button("Send to the class", type="primary"):
            try:
                store.broadcast(text, link, board)
                with _lock:
                    _cache.pop(f"{runs.default_location()}:message", None)
                st.success("Sent: learners see it within a few seconds.")
            except (ValueError, classroom.ClassStoreError) as err:
                st.error(str(err))


def class_panel(store: classroom.ClassStore) -> None:
    """Who is active and each exercise's leaderboard (polled by the page)."""
    names = store.names()
    active = store.active()
    st.subheader(f"Active learners: {len(active)}")
    if active.empty:
        st.caption("Nobody has opened a page in the last five minutes.")
    else:
        st.table(active_view(active).set_index("Learner"))
    exercises = store.exercises()
    st.subheader("Leaderboards")
    if exercises.empty:
        st.caption("No Playground or Training-lab runs yet.")
        return
    labels = dict(zip(exercises["exercise"], exercises["label"]))
    chosen = st.selectbox("Exercise", list(labels), format_func=labels.get,
                          key="instructor_exercise")
    row = exercises.set_index("exercise").loc[chosen]
    st.caption(f"{int(row['runs'])} runs by {int(row['learners'])} learners; each learner's "
               "best run (lowest test loss) counts.")
    board = store.leaderboard(chosen, names).head(BOARD_ROWS)
    st.table(leaderboard_view(board).set_index("Rank"))
    st.plotly_chart(instructor_plots.leaderboard_figure(board), key="instructor_board_fig")
