"""Workshop: the instructor's page. On a workshop server (NNPLAY_WORKSHOP=1), behind the token in
NNPLAY_INSTRUCTOR_TOKEN: the class's runs live as a leaderboard per exercise, who is active, and a
message with an exercise link broadcast to every learner. On a laptop it says how to start one.
"""

from __future__ import annotations

import os

import streamlit as st

from nnplay.train import classroom, runs
from nnplay.ui import workshop

REFRESH_S = 3

st.title("Workshop: instructor")
if not workshop.workshop_mode():
    st.markdown(
        "This page runs a workshop: learners pick a name, and you see the class's runs live as "
        "a leaderboard per exercise, who is active, and send every learner a message with an "
        "exercise link (the Playground builds such links).")
    st.info("This app runs for one person. Start it as a workshop server with the environment "
            "variables `NNPLAY_WORKSHOP=1` and `NNPLAY_INSTRUCTOR_TOKEN=<a secret you choose>` "
            "(deploy/README.md: several app replicas, PostgreSQL and a Dask cluster for a large "
            "class).", icon=":material/school:")
    st.stop()
if not os.environ.get(workshop.TOKEN_ENV):
    st.warning(f"Set {workshop.TOKEN_ENV} on the server to open this page: without a token "
               "nobody can.")
    st.stop()
if not workshop.instructor_signed_in():
    st.stop()

try:
    store = workshop.class_store()
except (classroom.ClassStoreError, runs.RunStoreError) as err:
    st.error(str(err))
    st.stop()

st.subheader("Send to the class")
workshop.broadcast_form(store, store.exercises())
latest = store.latest_message()
if latest:
    st.caption("Learners see now: " + (latest["text"] or "(no message)")
               + (f" — {latest['link']}" if latest["link"] else ""))
st.fragment(workshop.class_panel, run_every=REFRESH_S)(store)
