"""Headless tests of pages/lab_transfer.py: ImageNet guesses on a sample photo and an upload, the
digits 0-4 -> 5-9 curve trained in the background (its models join the workspace), and clear
messages for a broken zip, a non-image photo and missing ResNet18 weights."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "lab_transfer.py")


@pytest.fixture
def page(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("NNPLAY_CACHE", str(tmp_path / "cache"))   # features of this test only
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    return at


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def png_bytes(color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buf, format="PNG")
    return buf.getvalue()


def test_opens_with_the_cats_top_five(page):
    assert "Its best guess is Egyptian cat" in captions(page)
    assert not page.error and page.button(key="lt_start") is not None
    page.selectbox(key="lt_photo").set_value("Upload a photo...").run()
    page.file_uploader(key="lt_photo_file").upload("red.png", png_bytes(), "image/png").run()
    assert not page.exception and "Its best guess is" in captions(page)
    page.file_uploader(key="lt_photo_file").upload("notes.png", b"not a photo", "image/png").run()
    assert not page.exception and "That photo cannot be used" in page.error[0].value


def test_resnet18_without_weights_offers_the_offline_network(page, tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    page.radio(key="lt_photo_backbone").set_value("resnet18").run()
    assert "resnet18-f37072fd.pth" in page.warning[0].value
    page.button(key="lt_photo_backbone_offline").click().run()
    assert page.radio(key="lt_photo_backbone").value == "efficientnet_lite0"
    assert not page.warning and "Its best guess is" in captions(page)


def test_broken_zip_is_a_message(page):
    page.radio(key="lt_task").set_value("zip").run()
    page.file_uploader(key="lt_zip").upload("photos.zip", b"no zip here", "application/zip").run()
    assert not page.exception and "not a zip archive" in page.error[0].value
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../escape.png", png_bytes())
    page.file_uploader(key="lt_zip").upload("evil.zip", buf.getvalue(), "application/zip").run()
    assert "leaves its folder" in page.error[0].value


def test_digits_curve_in_the_background_joins_the_workspace(page, finish_job):
    page.radio(key="lt_task").set_value("digits_5to9").run()
    assert page.selectbox(key="lt_backbone").value == "nnplay_cnn"
    page.multiselect(key="lt_counts").set_value([2, 5]).run()
    page.multiselect(key="lt_modes_nnplay_cnn").set_value(["scratch", "frozen"]).run()
    page.button(key="lt_start").click().run()
    finish_job(page, "lt_job", timeout=300)
    result = page.session_state["lt_result"]
    assert list(result["table"]["per_class"]) == [2, 5, 2, 5]
    text = " ".join(m.value for m in page.markdown)
    assert "With 2 labelled images per class" in text and "nan" not in text
    models = page.session_state["nnplay_workspace"].list(lesson="lab_transfer")
    assert {m.spec.params["mode"] for m in models} == {"scratch", "frozen"}
    assert all(m.dataset.n_train == 25 for m in models)
    assert len([b for b in page.get("download_button")]) == 2


def test_a_zip_of_your_own_images_trains_a_frozen_efficientnet(page, finish_job):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(8):
            zf.writestr(f"shapes/red/{i}.png", png_bytes((220, 20 + i, 20)))
            zf.writestr(f"shapes/blue/{i}.png", png_bytes((20, 20 + i, 220)))
        zf.writestr("shapes/readme.txt", "not an image")
    page.radio(key="lt_task").set_value("zip").run()
    page.file_uploader(key="lt_zip").upload("shapes.zip", buf.getvalue(), "application/zip").run()
    assert not page.exception and not page.error
    assert "12 training and 4 test images in 2 classes" in captions(page)
    assert page.selectbox(key="lt_backbone").value == "efficientnet_lite0"
    page.multiselect(key="lt_counts").set_value([2, 50]).run()
    page.multiselect(key="lt_modes_efficientnet_lite0").set_value(["frozen"]).run()
    page.button(key="lt_start").click().run()
    finish_job(page, "lt_job", timeout=300)
    result = page.session_state["lt_result"]
    assert list(result["table"]["per_class"]) == [2, 6]     # 50 became the smallest class's 6
    assert any("smallest class has 6" in note for note in result["notes"])
    (model,) = page.session_state["nnplay_workspace"].list(lesson="lab_transfer")
    assert model.dataset.class_names == ["blue", "red"] and model.metrics["accuracy"] == 1.0
