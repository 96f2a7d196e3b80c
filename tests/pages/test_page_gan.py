"""Headless tests of pages/gan.py: the live 2-D GAN steps (both sides, one side, playing) with
its numbers shown, presets and impossible settings, the drawn target without a drawing, a
diverged GAN said in words, the mode-collapse comparison and the digits GAN in the background."""

from __future__ import annotations

import math

import pytest
import torch
from streamlit.testing.v1 import AppTest

from nnplay.lessons import gan as lesson


@pytest.fixture
def page(open_page) -> AppTest:
    return open_page("gan", timeout=180)


def metrics(at: AppTest) -> dict:
    return {m.label: m.value for m in at.metric}


def no_raw_numbers(at: AppTest) -> bool:
    texts = [m.value for m in at.metric] + [m.value for m in at.markdown]
    return not any(word in text for text in texts for word in ("nan", "None", "inf"))


def test_opens_on_the_ring_and_steps_show_real_losses(page):
    shown = metrics(page)
    assert shown["Step"] == "0" and shown["D loss"] == "–"
    assert shown["Modes covered"] == "0 of 8" and shown["High-quality samples"].endswith("%")
    page.button(key="gan_step").click().run()
    assert not page.exception
    gan = page.session_state["gan_live"]["gan"]
    shown = metrics(page)
    assert shown["Step"] == "1" and shown["D loss"] == f"{gan.last['d_loss']:.3f}"
    assert math.isfinite(float(shown["G loss"]))
    page.button(key="gan_step_d").click().run()
    assert metrics(page)["Step"] == "1" and gan.gan.d_updates == 2
    page.button(key="gan_step_g").click().run()
    assert metrics(page)["Step"] == "2"
    assert len(page.latex) == 2 and no_raw_numbers(page)


def test_play_trains_a_chunk_and_pause_keeps_it(page):
    page.button(key="gan_play").click().run()
    assert not page.exception
    gan = page.session_state["gan_live"]["gan"]
    assert gan.steps > 0 and page.session_state["gan_playing"]
    page.button(key="gan_pause").click().run()
    steps = gan.steps
    page.run()
    assert gan.steps == steps and metrics(page)["Step"] == f"{steps:,}"


def test_presets_and_learning_rates(page):
    page.button(key="gan_preset_collapse").click().run()
    assert not page.exception
    gan = page.session_state["gan_live"]["gan"]
    assert gan.config == lesson.COLLAPSE
    page.button(key="gan_step").click().run()
    page.select_slider(key="gan_lr_d").set_value(3e-3).run()     # live: the same GAN goes on
    assert page.session_state["gan_live"]["gan"] is gan and gan.config.lr_d == 3e-3
    page.button(key="gan_preset_healthy").click().run()
    assert page.session_state["gan_live"]["gan"].config == lesson.HEALTHY


def test_impossible_sizes_and_an_empty_drawing_say_what_to_do(page):
    page.number_input(key="gan_g_neurons").set_value(5000).run()
    assert not page.exception and "1 to 1,024 neurons" in page.error[0].value
    page.number_input(key="gan_g_neurons").set_value(512).run()
    assert "at most 256" in page.error[0].value
    page.number_input(key="gan_g_neurons").set_value(16).run()
    page.selectbox(key="gan_target").set_value("drawn").run()
    assert not page.exception and not page.error
    assert any("Draw a shape" in i.value for i in page.info)


def test_a_diverged_gan_says_diverged(page):
    page.button(key="gan_step").click().run()
    gan = page.session_state["gan_live"]["gan"]
    with torch.no_grad():
        for p in gan.gan.D.parameters():
            p.fill_(float("inf"))
    page.button(key="gan_step").click().run()
    assert not page.exception
    shown = metrics(page)
    assert shown["D loss"] == "diverged" and shown["G loss"] == "diverged"
    assert "diverged at step" in page.warning[0].value and no_raw_numbers(page)
    assert page.button(key="gan_play").disabled


def test_collapse_comparison_runs_in_the_background(page, finish_job):
    page.number_input(key="gan_compare_steps").set_value(200).run()
    page.number_input(key="gan_compare_seeds").set_value(1).run()
    page.button(key="gan_compare").click().run()
    finish_job(page, "gan_collapse_job")
    result = page.session_state["gan_collapse_job"]["worker"].result
    h, c = result.final["healthy"][0], result.final["collapse"][0]
    assert any(f"covered {h} of 8" in m.value and f"one {c}." in m.value for m in page.markdown)


def test_digits_gan_trains_one_epoch_and_shows_its_samples(page, finish_job):
    page.number_input(key="gan_digit_epochs").set_value(1).run()
    page.button(key="gan_digits").click().run()
    finish_job(page, "gan_digits_job", timeout=300)
    result = page.session_state["gan_digits_job"]["worker"].result
    assert result.status == "completed" and len(result.samples) == 2
    summary = [m.value for m in page.markdown if m.value.startswith("The run")][0]
    assert f"{result.seconds_per_epoch:.1f} s per epoch" in summary and no_raw_numbers(page)
    page.slider(key="gan_digit_epoch").set_value(0).run()
    assert not page.exception
