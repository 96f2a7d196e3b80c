"""nnplay: an interactive neural-network playground, from one neuron to production, on PyTorch.

The engine is importable without Streamlit: ``from nnplay import data, models, train``.
"""

__version__ = "0.1.0"
