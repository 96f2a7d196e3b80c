"""From prototype to production: compression (quantization, pruning), export with verification,
model cards, and monitoring with drift detection. Plain PyTorch, torchao, torch-pruning and ONNX
Runtime; no Streamlit. Import the modules directly: ``from nnplay.production import compress``.
"""
