"""Session-state helpers: one place that creates, reads and frees what a learner's session holds."""

from __future__ import annotations

import json
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


def kept_settings(store: str, prefix: str, defaults: dict, skip=()) -> dict:
    """Settings that outlive a visit to another page. Streamlit forgets the widgets of a page it
    did not draw, so their values live in ``st.session_state[store]`` (created from
    ``defaults``) and are put back under ``prefix + name`` before the widgets are made; a None
    value, or a name in ``skip``, is left to the page. Returns the kept dict: update it as the
    widgets change."""
    kept = st.session_state.setdefault(store, dict(defaults))
    for name, value in kept.items():
        if value is not None and name not in skip:
            st.session_state.setdefault(f"{prefix}{name}", value)
    return kept


def remembered(store: str, *key):
    """A result computed earlier in this session under ``key`` (JSON-able parts), or None."""
    return st.session_state.setdefault(store, {}).get(json.dumps(key, default=str))


def remember(store: str, value, *key, limit: int | None = None):
    """Keep ``value`` under ``key`` in ``st.session_state[store]`` (the oldest go past
    ``limit``); returns it."""
    kept = st.session_state.setdefault(store, {})
    kept[json.dumps(key, default=str)] = value
    while limit is not None and len(kept) > limit:
        kept.pop(next(iter(kept)))
    return value
