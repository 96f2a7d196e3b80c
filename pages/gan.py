"""Lesson: GANs. A generator learns to make 2-D points a discriminator cannot tell from real
ones, drawn live as GAN Lab draws it (the discriminator's map, real and fake samples, the push on
each fake, the generator's map of its input grid); mode collapse shown and measured by the ring's
modes covered, over seeds; then a small GAN learns handwritten digits in the background.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from nnplay.lessons import gan as lesson
from nnplay.lessons import gan_view as view
from nnplay.models.gan import LOSS_LATEX, LOSSES, OPTIMIZERS, GANConfig
from nnplay.plots import gan as plots
from nnplay.train.jobs import Job
from nnplay.ui import cache, state
from nnplay.ui.draw import draw_digit
from nnplay.ui.gan_view import gan_view
from nnplay.ui.jobs import job_panel, job_running, start_job

REFRESH_S = 0.05
COLLAPSE_JOB, DIGITS_JOB = "gan_collapse_job", "gan_digits_job"
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 1e-2, 3e-2, 1e-1)
DEFAULTS = {"target": "ring", **view.preset_widgets("healthy"), "seed": 0}


def restore_state() -> None:
    """Put back the settings Streamlit dropped while the learner was on another page."""
    state.kept_settings("gan_settings", "gan_", DEFAULTS)
    st.session_state.setdefault("gan_playing", False)


def use_preset(name: str) -> None:
    values = {"target": "ring", **view.preset_widgets(name)}
    for key, value in values.items():
        st.session_state[f"gan_{key}"] = value
    st.session_state.gan_settings.update(values)
    st.session_state.gan_playing = False


def controls() -> GANConfig | None:
    """The settings as a GANConfig, or None (with the reason shown) when they are impossible."""
    c = st.columns(4)
    c[0].selectbox("Target", list(lesson.TARGETS), format_func=lesson.TARGETS.get, key="gan_target")
    c[1].selectbox("Loss", list(LOSSES), format_func=LOSSES.get, key="gan_loss")
    c[2].radio("Optimizer", OPTIMIZERS, horizontal=True, key="gan_optimizer")
    c[3].number_input("D updates per G update", 1, 5, key="gan_d_steps")
    c = st.columns(4)
    c[0].number_input("Generator: hidden layers", 0, 6, key="gan_g_layers")
    c[1].number_input("Generator: neurons per layer", 1, 100_000, key="gan_g_neurons")
    c[2].number_input("Discriminator: hidden layers", 0, 6, key="gan_d_layers")
    c[3].number_input("Discriminator: neurons per layer", 1, 100_000, key="gan_d_neurons")
    c = st.columns(3)
    c[0].select_slider("Generator learning rate", LEARNING_RATES, key="gan_lr_g")
    c[1].select_slider("Discriminator learning rate", LEARNING_RATES, key="gan_lr_d")
    c[2].number_input("Seed", 0, 10_000, key="gan_seed")
    values = {name: st.session_state[f"gan_{name}"] for name in DEFAULTS}
    st.session_state.gan_settings = values
    try:
        return view.config_from_widgets(values)
    except ValueError as err:
        st.error(f"These settings cannot be used: {err}")
        return None


def target_now(name: str):
    """(key, Target) for the chosen target; None with a message when there is none yet."""
    if name != "drawn":
        return name, lesson.make_target(name)
    st.caption("Draw strokes: every bright pixel becomes a real sample on the plane.")
    grid = draw_digit("gan_draw")
    try:
        target = lesson.drawn_target(grid)
    except ValueError as err:
        st.info(str(err))
        return None
    return f"drawn:{hashlib.sha1(grid.tobytes()).hexdigest()[:12]}", target


def current_gan(target_key: str, target, config: GANConfig):
    """The live GAN; learning rates and D updates change in place, anything else starts a
    new one at step 0 (and says why)."""
    live = st.session_state.get("gan_live")
    key = (target_key, view.structure_key(config))
    if live is not None and live["key"] == key:
        gan = live["gan"]
        if view.live_changes(gan.config, config):
            gan.set_learning_rates(config.lr_g, config.lr_d, config.d_steps)
        return gan
    gan = lesson.GAN2D.from_config(target, config)
    if live is not None:
        why = view.changes_text(live["gan"].config, config) or "the target changed"
        st.toast(f"New GAN at step 0: {why}.", icon=":material/restart_alt:")
    st.session_state.update(gan_live={"gan": gan, "key": key}, gan_playing=False)
    return gan


def set_playing(playing: bool) -> None:
    st.session_state.gan_playing = playing


def one_move(move: str) -> None:
    gan = st.session_state.gan_live["gan"]
    st.session_state.gan_playing = False
    {"d": gan.step_discriminator, "g": gan.step_generator, "both": lambda: gan.step(1)}[move]()


def reset() -> None:
    st.session_state.pop("gan_live", None)
    st.session_state.gan_playing = False


def run_buttons(gan) -> None:
    c = st.columns(5)
    if st.session_state.gan_playing:
        c[0].button("⏸ Pause", key="gan_pause", on_click=set_playing, args=(False,))
    else:
        c[0].button("▶ Play", key="gan_play", on_click=set_playing, args=(True,), disabled=gan.done)
    c[1].button("Step D", key="gan_step_d", on_click=one_move, args=("d",), disabled=gan.done,
                help="One discriminator update: watch its map change.")
    c[2].button("Step G", key="gan_step_g", on_click=one_move, args=("g",), disabled=gan.done,
                help="One generator update: the fakes move along the arrows.")
    c[3].button("Step both", key="gan_step", on_click=one_move, args=("both",), disabled=gan.done)
    c[4].button("Reset", key="gan_reset", on_click=reset)


def live_view() -> None:
    """One chunk of training (while playing), then the numbers and the view."""
    gan = st.session_state.gan_live["gan"]
    if st.session_state.gan_playing and not gan.done:
        gan.run_chunk(keep_going=lambda: st.session_state.gan_playing)
    if st.session_state.gan_playing and gan.done:
        st.session_state.gan_playing = False
        st.rerun()                      # a full run shows why it stopped
    payload = view.view_payload(gan)
    shown = view.live_metrics(gan, payload)
    for col, (label, value) in zip(st.columns(len(shown)), shown):
        col.metric(label, value)
    if view.status_text(gan):
        st.warning(view.status_text(gan))
    gan_view(payload, key="gan_view")
    if not st.session_state.gan_playing:
        st.plotly_chart(plots.training_figure(gan.history, gan.target.n_modes),
                        key="gan_training_fig")


def plane_section() -> None:
    st.markdown(view.INTRO)
    c = st.columns(2)
    c[0].button("Healthy setting", key="gan_preset_healthy", on_click=use_preset, args=("healthy",))
    c[1].button("Mode-collapse example", key="gan_preset_collapse", on_click=use_preset,
                args=("collapse",))
    with st.expander("Target, networks and training", expanded=True):
        config = controls()
    if config is None:
        return
    d_latex, g_latex = LOSS_LATEX[config.loss]
    st.latex(d_latex)
    st.latex(g_latex)
    chosen = target_now(st.session_state.gan_target)
    if chosen is None:
        return
    try:
        gan = current_gan(*chosen, config)
    except ValueError as err:
        st.error(f"These settings cannot be used: {err}")
        return
    run_buttons(gan)
    playing = st.session_state.gan_playing
    st.fragment(run_every=REFRESH_S if playing else None)(live_view)()


def collapse_section() -> None:
    st.markdown(view.COLLAPSE_TEXT)
    c = st.columns(2)
    steps = int(c[0].number_input("Steps per run", 200, 20_000, lesson.COMPARE_STEPS, step=100,
                                  key="gan_compare_steps"))
    seeds = int(c[1].number_input("Seeds", 1, 5, 3, key="gan_compare_seeds"))
    st.button("Run both settings", type="primary", key="gan_compare", on_click=start_job,
              args=(COLLAPSE_JOB, Job(lesson.compare_collapse, steps, tuple(range(seeds)),
                                      label="mode collapse")),
              disabled=job_running(COLLAPSE_JOB))
    done = job_panel(COLLAPSE_JOB, lambda job: None, what="The comparison")
    if done is None:
        return
    result = done["worker"].result
    if result is None or not result.final["healthy"]:
        st.info("Stopped before both settings finished a seed: nothing to compare yet.")
        return
    st.plotly_chart(plots.collapse_figure(result), key="gan_collapse_fig")
    st.markdown(result.summary())


def start_digits(epochs: int, seed: int) -> None:
    dataset = cache.load_dataset("mnist5k")
    start_job(DIGITS_JOB, Job(lesson.train_digit_gan, dataset, epochs=epochs, seed=seed,
                              label="digits GAN"))


def digits_section() -> None:
    st.markdown(view.digits_text(lesson.DIGIT_GAN, lesson.DIGIT_EPOCHS))
    c = st.columns(2)
    epochs = int(c[0].number_input("Epochs", 1, 100, lesson.DIGIT_EPOCHS, key="gan_digit_epochs"))
    seed = int(c[1].number_input("Seed", 0, 10_000, 0, key="gan_digit_seed"))
    st.button("Train the digits GAN", type="primary", key="gan_digits", on_click=start_digits,
              args=(epochs, seed), disabled=job_running(DIGITS_JOB))
    done = job_panel(DIGITS_JOB, lambda job: None, what="The digits GAN")
    if done is None:
        return
    result = done["worker"].result
    if result is None:
        st.info("Stopped before it started: nothing to show.")
        return
    last = len(result.samples) - 1
    if st.session_state.get("gan_digit_epoch", 0) > last:   # a shorter run than the last one
        st.session_state.gan_digit_epoch = last
    epoch = st.slider("Epoch", 0, last, last, key="gan_digit_epoch") if last else 0
    st.plotly_chart(plots.digit_gan_figure(result.samples[epoch], result.history, epoch),
                    key="gan_digits_fig")
    st.markdown(view.digit_summary(result))


restore_state()
st.title("GANs: a generator against a discriminator")
plane_tab, collapse_tab, digits_tab = st.tabs(["Train a GAN on the plane",
                                               "Mode collapse, measured", "Digits"])
with plane_tab:
    plane_section()
with collapse_tab:
    collapse_section()
with digits_tab:
    digits_section()
