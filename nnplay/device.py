"""Where tensors live: one place that picks CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

import contextlib

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Return a torch.device for ``device``: "auto" picks cuda, then mps, then cpu.

    Asking for a device that is not available raises ValueError with what to use instead.
    """
    if isinstance(device, torch.device):
        return device
    name = (device or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError("CUDA was requested but no CUDA GPU is available; use device 'cpu' or 'auto'.")
        return torch.device(name)
    if name == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError("MPS was requested but is not available; use device 'cpu' or 'auto'.")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise ValueError(f"Unknown device {device!r}; choose one of {', '.join(DEVICE_CHOICES)}.")


def device_name(device: str | torch.device | None = "auto") -> str:
    """A human name for the device: 'CPU', or the GPU's marketing name."""
    dev = resolve_device(device)
    if dev.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(dev)}"
    if dev.type == "mps":
        return "GPU: Apple MPS"
    return "CPU"


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run torch on ``n`` intra-op CPU threads inside the block, then restore the count (it is
    process-wide); None leaves it alone. One thread suits the lessons' small networks: a second
    thread only adds waiting, and on a busy CPU its spin-waits slow each step many times over."""
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)
