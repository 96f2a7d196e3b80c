"""Session-state helpers: one place that creates, reads and frees what a learner's session holds."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import streamlit as st


def get_or_create(key: str, factory: Callable[[], Any]) -> Any:
    """st.session_state[key], created by ``factory()`` the first time."""
    if key not in st.session_state:
        st.session_state[key] = factory()
    return st.session_state[key]


def clear_prefix(prefix: str) -> int:
    """Delete every session-state entry whose key starts with ``prefix``; returns how many."""
    keys = [k for k in list(st.session_state.keys()) if str(k).startswith(prefix)]
    for k in keys:
        del st.session_state[k]
    return len(keys)


@contextmanager
def user_errors(what: str = "That setting"):
    """Turn a ValueError (bad input a person can fix) into a short st.error instead of a traceback."""
    try:
        yield
    except ValueError as err:
        st.error(f"{what} could not be used: {err}")
