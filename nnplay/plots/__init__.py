"""Pure plotting functions: data in, plotly Figure (or DOT text) out. No Streamlit here."""
