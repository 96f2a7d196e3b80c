"""The only Streamlit-aware part of nnplay: session state, cached loaders and shared widgets.

Importing it (every page does) also routes deep links through app.py: Streamlit treats a
``pages/`` folder beside the entry script as an old-style multipage app until the entry script
has called ``st.navigation`` once in the server process, so the first visitor who opens a shared
link such as ``/playground?dataset=spiral`` would get the bare page without the app's navigation
and layout. We switch that off for the process and rerun, which runs app.py for the same page.
"""

from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx


def _route_through_app() -> None:
    if PagesManager.uses_pages_directory and get_script_run_ctx() is not None:
        PagesManager.uses_pages_directory = False
        import streamlit as st

        st.rerun()


_route_through_app()
