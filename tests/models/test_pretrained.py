"""Pretrained backbones and the transfer family: ImageNet predictions from the offline
EfficientNet-Lite0, ResNet18 without its weights, what each mode trains, a fine-tuning run that
learns, and a transfer model that saves and reloads through modelio."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nnplay import data
from nnplay.data import images  # noqa: F401  (registers the digit splits)
from nnplay.models import modelio, pretrained
from nnplay.models.registry import ModelSpec, build_model
from nnplay.train import TrainConfig, Trainer, predict_raw
from nnplay.train.workspace import Workspace

CATS = {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}


@pytest.fixture(scope="module")
def digits():
    return data.load("digits_5to9")


def test_efficientnet_knows_the_cat_and_the_coffee():
    from skimage import data as photos

    top = pretrained.predict_image(photos.chelsea(), k=5)
    assert len(top) == 5 and top[0][0] in CATS and top[0][1] > 0.5
    assert [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    assert pretrained.predict_image(photos.coffee(), k=1)[0][0] == "espresso"
    assert len(pretrained.imagenet_classes()) == 1000


def test_a_file_that_is_not_a_photo_is_a_message(tmp_path):
    with pytest.raises(ValueError, match="not an image"):
        pretrained.predict_image(b"%PDF-1.4 this is not a photo")
    with pytest.raises(ValueError, match="Cannot read"):
        pretrained.photo_array(tmp_path / "missing.jpg")
    grey = pretrained.photo_array(np.linspace(0, 1, 40 * 30).reshape(40, 30))
    assert grey.shape == (40, 30, 3) and grey.dtype == np.uint8 and grey.max() == 255


def test_resnet18_without_its_weights_says_what_is_missing(tmp_path, monkeypatch, digits):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    assert not pretrained.weights_available("resnet18")
    message = pretrained.missing_weights_message("resnet18")
    assert str(tmp_path / "checkpoints" / "resnet18-f37072fd.pth") in message
    assert "EfficientNet-Lite0" in message
    with pytest.raises(ValueError, match="resnet18-f37072fd.pth"):
        pretrained.imagenet_classifier("resnet18")
    with pytest.warns(UserWarning, match="ResNet18"):
        net = build_model(ModelSpec("transfer", {"backbone": "resnet18"}), digits)
    assert not net.pretrained and net(torch.zeros(2, 1, 28, 28)).shape == (2, 5)


def test_modes_choose_what_learns(digits):
    def trained(mode):
        net = build_model(ModelSpec("transfer", {"backbone": "efficientnet_lite0",
                                                 "mode": mode, "resolution": 32}), digits)
        return net, {n for n, p in net.named_parameters() if p.requires_grad}

    net, names = trained("frozen")
    assert names == {"head.weight", "head.bias"}
    assert net.head.in_features == 192   # 192 channels x 1 x 1 at 32 pixels
    assert not any(k.startswith(("backbone.net._blocks.15.", "backbone.net._conv_head"))
                   for k in net.state_dict())   # ImageNet's last stage is left out
    net, names = trained("finetune_last")
    assert "head.weight" in names and "backbone.net._blocks.14._project_conv.weight" in names
    assert not any(n.startswith(("backbone.net._blocks.13.", "backbone.net._conv_stem"))
                   for n in names)
    net, names = trained("finetune_all")
    assert names == {n for n, _ in net.named_parameters()}
    net.train()   # pretrained batch norm keeps its ImageNet statistics while training
    assert all(not m.training for m in net.modules() if isinstance(m, nn.BatchNorm2d))
    scratch = build_model(ModelSpec("transfer", {"mode": "scratch"}), digits)
    assert type(scratch).__name__ == "CNN"
    with pytest.raises(ValueError, match="Unknown transfer mode"):
        ModelSpec("transfer", {"mode": "melt"}).build(digits)


def test_input_adapter_makes_grey_digits_rgb_at_the_backbones_size(digits):
    net = pretrained.TransferNet((1, 28, 28), 5, "efficientnet_lite0", resolution=64)
    x = torch.as_tensor(digits.X_test[:3])
    adapted = net.adapt(x)
    assert adapted.shape == (3, 3, 64, 64)
    assert torch.allclose(adapted[:, 0], adapted[:, 2])          # grey copied to R, G and B
    assert adapted.min() >= -1 - 1e-6 and adapted.max() <= 1 + 1e-6   # (x - 0.5) / 0.5
    assert torch.equal(net.adapt(x.reshape(3, -1)), adapted)        # flat rows work too
    trunk = net.trunk_features(x)
    assert trunk.shape == (3, 192, 2, 2) and net.features(x).shape == (3, 768)
    assert torch.allclose(net.after_trunk(trunk), net(x))


def test_tiny_fine_tuning_run_lowers_the_loss(digits):
    small = data.Dataset("tiny", digits.X_train[:40], digits.y_train[:40], digits.X_test[:20],
                         digits.y_test[:20], "classification", [], digits.class_names)
    torch.manual_seed(0)
    net = pretrained.TransferNet(small.input_shape, 5, "efficientnet_lite0", "finetune_all",
                                 resolution=32)
    trainer = Trainer(net, small, TrainConfig(optimizer="adam", lr=1e-4, batch_size=20,
                                              epochs=5, seed=0, device="cpu")).fit()
    losses = [trainer.start_logs["loss"]] + [h["loss"] for h in trainer.history]
    assert trainer.status == "completed" and losses[-1] < 0.85 * losses[0]


@pytest.mark.parametrize("backbone, mode", [("nnplay_cnn", "finetune_last"),
                                            ("efficientnet_lite0", "frozen"),
                                            ("nnplay_cnn", "scratch")])
def test_transfer_model_saves_and_reloads_with_the_same_predictions(digits, backbone, mode):
    spec = ModelSpec("transfer", {"backbone": backbone, "mode": mode})
    torch.manual_seed(1)
    net = build_model(spec, digits)
    with torch.no_grad():   # as if trained: every weight moved away from what a rebuild gives
        for p in net.parameters():
            p.add_(0.01 * torch.randn_like(p))
    entry = Workspace().register(net, digits, spec, "lab_transfer", name="transfer test",
                                 metrics={"accuracy": 0.5})
    loaded = modelio.load_bundle(modelio.export_bundle(entry.model, entry.record, entry.dataset))
    assert loaded.record.spec == spec and loaded.dataset.name == "digits_5to9"
    X = digits.X_test[:16]
    np.testing.assert_array_equal(predict_raw(loaded.model, X), predict_raw(net, X))
