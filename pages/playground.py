"""Lesson: the Playground. TensorFlow Playground on real PyTorch: pick 2-D data and input
features, build a network with +/- buttons, press play and watch the output, every hidden neuron
and every weight change live. Training settings change while it plays; settings that shape the
network start a new one. Settings live in session state and the URL (``hide=lr,activation``
locks controls); runs can be kept as snapshots, saved to the session workspace and exported.
"""

from __future__ import annotations

import math
import time

import streamlit as st

from nnplay.lessons import playground as pg
from nnplay.lessons.playground import view as pgview
from nnplay.plots import playground as plots
from nnplay.train import lr_schedule_preview
from nnplay.ui import workspace as ui_workspace
from nnplay.ui.playground_controls import (
    bump,
    current_settings,
    data_controls,
    export_and_share,
    feature_controls,
    network_controls,
    raw_dataset,
    restore_state,
    training_controls,
)
from nnplay.ui.playground_view import edit_in_state, playground_view

REFRESH_S = 0.05      # the live view redraws this often while playing
SEND_S = 0.02         # a pause after each refresh while playing, so the server sends it
VIEW_KEY = "pg_view"


def current_session(settings: pg.PlaygroundSettings) -> pg.PlaygroundSession:
    """The live session, with training changes applied to it in place; a new one (epoch 0,
    fresh weights, a notice saying why) when a setting that shapes the network changed."""
    session, notice = st.session_state.get("pg_session"), ""
    if session is not None:
        changed = pg.structural_changes(session.settings, settings)
        live = pg.settings_diff(session.settings, settings, pg.LIVE)
        if not changed and live and session.trainer.status == "diverged":
            changed = ["the network had diverged", *live]   # nothing left to train on
        if not changed:
            session.update_training(settings)
            return session
        notice = f"New network at epoch 0: {'; '.join(changed)}."
    raw = raw_dataset(settings)
    session = pg.PlaygroundSession(settings, raw)
    st.session_state.update(pg_session=session, pg_playing=False, pg_saved=None)
    if notice:
        st.toast(notice, icon=":material/restart_alt:")
    return session


def save_to_workspace(announce: bool = True) -> None:
    """Register a copy of the network as it is now (once per epoch reached), and say so."""
    session = st.session_state.pg_session
    saved = st.session_state.get("pg_saved")     # (epoch, name) of the last copy saved
    if session.epoch == 0:
        message = "Train for at least one epoch before saving."
    elif saved and saved[0] == session.epoch:
        message = f"Already in Your models as “{saved[1]}” (epoch {session.epoch:,})."
    else:
        trainer = session.trainer_to_save()      # a copy: the network trains on
        entry = ui_workspace.register(trainer, lesson="playground", spec=session.spec,
                                      model=trainer.model,
                                      name=f"Playground {session.settings.dataset}")
        if entry is None:
            return                                # register said why
        st.session_state.pg_saved = (session.epoch, entry.name)
        message = f"Saved “{entry.name}” (epoch {session.epoch:,}) to Your models."
    if announce:
        st.toast(message, icon=":material/save:")


def set_playing(playing: bool) -> None:
    st.session_state.pg_playing = playing
    if not playing:
        save_to_workspace(announce=False)


def step_once() -> None:
    st.session_state.pg_playing = False
    st.session_state.pg_session.run_chunk(epochs=1)


def keep_snapshot() -> None:
    snaps = st.session_state.pg_snapshots
    try:
        snaps.append(pg.take_snapshot(st.session_state.pg_session, len(snaps) + 1))
    except ValueError as err:
        st.session_state.pg_limit = str(err)


def run_buttons(session: pg.PlaygroundSession) -> None:
    cols = st.columns(5)
    if st.session_state.pg_playing:
        cols[0].button("⏸ Pause", key="pg_pause", on_click=set_playing, args=(False,))
    else:
        cols[0].button("▶ Play", key="pg_play", on_click=set_playing, args=(True,),
                       disabled=session.trainer.done)
    cols[1].button("Step one epoch", key="pg_step", on_click=step_once,
                   disabled=session.trainer.done)
    cols[2].button("Reset (new weights)", key="pg_reset", on_click=bump, args=("seed",))
    cols[3].button("Keep snapshot", key="pg_snapshot", on_click=keep_snapshot)
    cols[4].button("Save to workspace", key="pg_save", on_click=save_to_workspace)


def apply_edit() -> None:
    """The view reported a weight or bias the learner typed: set it on the model (training,
    if playing, goes on from it) and say what changed."""
    edit = edit_in_state(VIEW_KEY)
    if not edit:
        return
    try:
        st.session_state.pg_edit_message = pgview.apply_edit(st.session_state.pg_session, edit)
    except ValueError as err:
        st.session_state.pg_edit_message = f"Not changed: {err}"


def shown(value: float | None, digits: int) -> str:
    """A metric for a person: '–' before it exists, 'diverged' when not finite."""
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if math.isfinite(value) else "diverged"


def live_view() -> None:
    """One chunk of training (while playing), then the counter and every figure."""
    session = st.session_state.pg_session
    # Read the flag right before the chunk: the Pause click's callback clears it, so no run
    # that starts after the click trains.
    if st.session_state.pg_playing and not session.trainer.done:
        session.run_chunk(keep_going=lambda: st.session_state.pg_playing)
    if st.session_state.pg_playing and session.trainer.done:
        set_playing(False)
        st.rerun()            # a full run stops the timer and shows why training ended
    s, trainer = session.settings, session.trainer
    with session.lock:                  # the numbers and the view of one and the same epoch
        history = trainer.curve_history()   # epoch 0 first: the untrained network's loss
        payload = pgview.view_payload(session)
    metrics = pg.last_metrics(history)
    cols = st.columns(4)
    cols[0].metric("Epoch", f"{session.epoch:,}")
    cols[1].metric("Train loss", shown(metrics.get("loss"), 4))
    cols[2].metric("Test loss", shown(metrics.get("val_loss"), 4))
    score = ("Test accuracy", "val_accuracy") if s.problem == "classification" else ("Test R²", "val_r2")
    cols[3].metric(score[0], shown(metrics.get(score[1]), 3))
    if trainer.done:
        st.info(pg.end_message(session))
    # The network, its nodes' maps and the output, drawn in the browser from plain numbers
    # (no images to fetch); hover shows values, a click on an edge or bias edits it.
    playground_view(payload, key=VIEW_KEY, on_edit=apply_edit)
    if st.session_state.get("pg_edit_message"):
        st.caption(st.session_state.pg_edit_message)
    if st.session_state.pg_playing:
        if session.pacer.others_playing():
            # The next refresh starts as soon as this one ends and drops whatever of this one
            # the server has not sent yet; under load, its sending loop needs the GIL a moment.
            time.sleep(SEND_S)
        return   # the view draws the live loss curve; the full chart below waits for a pause
    snaps = [(snap.label, snap.history) for snap in st.session_state.pg_snapshots]
    best = pg.best_epoch(history[1:])   # a trained epoch, as early stopping would keep
    st.plotly_chart(plots.loss_curves_figure(history, snaps, best), key="pg_loss_fig")


def extras(settings: pg.PlaygroundSettings) -> None:
    """The objective, schedule preview, snapshot differences, exports and exercise links."""
    st.latex(pg.objective_latex(settings))
    with st.expander("Learning-rate schedule"):
        rates = lr_schedule_preview(settings.train_config())
        st.plotly_chart(plots.lr_schedule_figure(rates, settings.schedule), key="pg_lr_fig")
    for snap in st.session_state.pg_snapshots:
        changes = pg.settings_diff(snap.settings, settings)
        st.caption(f"Snapshot {snap.label} (best epoch {snap.best_epoch}); now: "
                   f"{'; '.join(changes) or 'same settings'}")
    export_and_share(settings)     # script and notebook downloads, the exercise builder


restore_state()
st.title("Playground")
for problem in st.session_state.pg_url_problems:
    st.warning(f"A setting in the link was ignored: {problem}")
with st.sidebar:
    data_values = data_controls()
live_area = st.container()   # filled below, once the settings are read: the view comes first
with st.expander("Features, network and training", expanded=True):
    features = feature_controls()
    network_controls()
    training_values = training_controls()
with st.sidebar:
    settings = current_settings(data_values | training_values | {"features": features})
if settings is not None:
    session = current_session(settings)
    with live_area:
        run_buttons(session)
        playing = st.session_state.pg_playing
        st.fragment(run_every=REFRESH_S if playing else None)(live_view)()
    extras(settings)
    # Written on every run: a page switch clears the URL, and a reload reads it back.
    url = pg.to_query_params(settings, st.session_state.pg_hide)
    if st.query_params.to_dict() != url:
        st.query_params.from_dict(url)
