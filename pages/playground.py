"""Lesson: the Playground. TensorFlow Playground on real PyTorch: pick 2-D data and input
features, build a network with +/- buttons, press play and watch the output, every hidden neuron
and every weight change live. Settings live in the URL (``hide=lr,activation`` locks controls);
runs can be kept as snapshots, saved to the session workspace and exported as a script.
"""

from __future__ import annotations

import copy

import streamlit as st

from nnplay.lessons import playground as pg
from nnplay.lessons.playground import export as codegen
from nnplay.plots import playground as plots
from nnplay.plots import raster
from nnplay.train import lr_schedule_preview
from nnplay.ui import cache
from nnplay.ui import workspace as ui_workspace
from nnplay.ui.playground_controls import (
    bump,
    current_settings,
    data_controls,
    feature_controls,
    init_from_url,
    network_controls,
    training_controls,
)

REFRESH_S = 0.05      # the live view redraws this often while playing


def current_session(settings: pg.PlaygroundSettings) -> pg.PlaygroundSession:
    """The live session; a new one (epoch 0, fresh weights) when a model setting changed."""
    session = st.session_state.get("pg_session")
    if session is None or session.settings.model_affecting() != settings.model_affecting():
        raw = cache.load_dataset(settings.dataset, **settings.dataset_params())
        session = pg.PlaygroundSession(settings, raw)
        st.session_state.update(pg_session=session, pg_playing=False, pg_saved_epoch=None)
    session.settings = settings   # the view options may differ
    return session


def save_to_workspace() -> None:
    """Register a copy of the network as it is now (once per epoch reached)."""
    session = st.session_state.pg_session
    if session.epoch == 0 or st.session_state.get("pg_saved_epoch") == session.epoch:
        return
    ui_workspace.register(session.trainer, lesson="playground", spec=session.spec,
                          model=copy.deepcopy(session.model),
                          name=f"Playground {session.settings.dataset}")
    st.session_state.pg_saved_epoch = session.epoch


def set_playing(playing: bool) -> None:
    st.session_state.pg_playing = playing
    if not playing:
        save_to_workspace()


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


def live_view(session: pg.PlaygroundSession) -> None:
    """One chunk of training (while playing), then the counter and every figure."""
    if st.session_state.pg_playing and not session.trainer.done:
        session.run_chunk()
    if st.session_state.pg_playing and session.trainer.done:
        set_playing(False)
        st.rerun()            # a full run stops the timer and shows why training ended
    s, trainer, raw = session.settings, session.trainer, session.raw
    history = trainer.curve_history()   # epoch 0 first: the untrained network's loss
    metrics = pg.last_metrics(history)
    cols = st.columns(4)
    cols[0].metric("Epoch", f"{session.epoch:,}")
    cols[1].metric("Train loss", f"{metrics.get('loss', float('nan')):.4f}")
    cols[2].metric("Test loss", f"{metrics.get('val_loss', float('nan')):.4f}")
    score = ("Test accuracy", "val_accuracy") if s.problem == "classification" else ("Test R²", "val_r2")
    cols[3].metric(score[0], f"{metrics.get(score[1], float('nan')):.3f}")
    if trainer.done:
        st.info(f"Training {trainer.status.replace('_', ' ')}"
                f"{': ' + trainer.stop_reason if trainer.stop_reason else ''}.")
    xlim, ylim = pg.plane_limits(raw)
    grid = pg.output_grid(session.model, s.features, xlim, ylim, s.problem)
    left, right = st.columns([3, 2])
    test = (raw.X_test, raw.y_test) if s.show_test else (None, None)
    n_out = session.dataset.n_outputs
    # While playing, the maps are images (cheap for the browser to redraw several times a
    # second); paused, they are interactive figures with hover values.
    live = st.session_state.pg_playing
    if live:
        left.image(raster.output_image(grid.xs, grid.ys, grid.output, s.problem, raw.X_train,
                                       raw.y_train, *test, n_classes=n_out, discretize=s.discretize),
                   width=360, caption="Output over the input plane (pause to hover for values)")
    else:
        left.plotly_chart(plots.output_heatmap_figure(
            grid.xs, grid.ys, grid.output, s.problem, raw.X_train, raw.y_train, *test,
            n_classes=n_out, discretize=s.discretize), key="pg_output_fig")
    sizes = [len(s.features), *s.hidden, n_out]
    outputs = raw.class_names or ["output"]
    weights = pg.network_weights(session.model)
    if live:
        net = raster.network_image(sizes, weights)
        right.image(net, width=int(net.shape[1]), caption="The network: inputs left, outputs "
                    "right; edge width |w|, blue w > 0, orange w < 0")
    else:
        right.plotly_chart(plots.network_figure(sizes, weights, session.dataset.feature_names,
                                                outputs), key="pg_network_fig")
    if s.hidden and live:
        maps = raster.neuron_maps_image(grid.neurons)
        right.image(maps, width=int(maps.shape[1]),
                    caption="Hidden neurons over the input plane, a column per layer")
    elif s.hidden:
        right.plotly_chart(plots.neuron_maps_figure(grid.neurons, s.hidden), key="pg_neurons_fig")
    snaps = [(snap.label, snap.history) for snap in st.session_state.pg_snapshots]
    st.plotly_chart(plots.loss_curves_figure(history, snaps, pg.best_epoch(history)),
                    key="pg_loss_fig")


def extras(settings: pg.PlaygroundSettings) -> None:
    """The objective, schedule preview, snapshot differences and the code export."""
    st.latex(pg.objective_latex(settings))
    with st.expander("Learning-rate schedule"):
        rates = lr_schedule_preview(settings.train_config())
        st.plotly_chart(plots.lr_schedule_figure(rates, settings.schedule), key="pg_lr_fig")
    for snap in st.session_state.pg_snapshots:
        changes = pg.settings_diff(snap.settings, settings)
        st.caption(f"Snapshot {snap.label} (best epoch {snap.best_epoch}); now: "
                   f"{'; '.join(changes) or 'same settings'}")
    script = codegen.export_script(settings)
    st.download_button("Export as a PyTorch script", script, file_name="playground_experiment.py",
                       mime="text/x-python", key="pg_export")
    with st.expander("The exported script"):
        st.code(script, language="python")


init_from_url()
st.title("Playground")
for problem in st.session_state.pg_url_problems:
    st.warning(f"A setting in the link was ignored: {problem}")
with st.sidebar:
    data_values = data_controls()
live_area = st.container()   # filled below, once the settings are read: the view comes first
with st.expander("Features, network and training", expanded=True):
    feature_controls()
    network_controls()
    training_values = training_controls()
with st.sidebar:
    settings = current_settings(data_values | training_values)
if settings is not None:
    session = current_session(settings)
    with live_area:
        run_buttons(session)
        playing = st.session_state.pg_playing
        st.fragment(run_every=REFRESH_S if playing else None)(live_view)(session)
    extras(settings)
    url = pg.to_query_params(settings, st.session_state.pg_hide)
    if st.query_params.to_dict() != url:
        st.query_params.from_dict(url)
