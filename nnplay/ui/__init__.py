"""The only Streamlit-aware part of nnplay: session state, cached loaders and shared widgets."""
