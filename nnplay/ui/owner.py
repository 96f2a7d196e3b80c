"""Whose runs are whose: the owner id this browser's runs are stored under.

On one person's machine (the default) the owner is the operating-system user, the same name
``nnplay train`` and notebooks record, so every run in the store is yours. On a workshop server,
where the environment variable NNPLAY_SHARED=1, each browser is its own owner: a random token kept
in a year-long cookie, ``nnplay_owner``, that the page writes with a line of JavaScript the first
time (Streamlit only reads cookies, through ``st.context.cookies``). Until that cookie comes back
with a later page load, the token is this Streamlit session's id, so the first session and the
ones after it share one owner. The stored owner is a hash of the token, never the token itself:
seeing someone's run (its JSON names its owner) does not let you act as them.

This is an identity for convenience, not authentication: another browser, a private window or
cleared cookies make a new owner, and whoever uses the same browser profile is the same owner.

A workshop (NNPLAY_WORKSHOP=1, nnplay.ui.workshop) is a shared server whose learners also pick a
display name: ``owner_label`` then shows that name instead of "another learner".
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from nnplay.train.runs import local_owner

SHARED_ENV = "NNPLAY_SHARED"
WORKSHOP_ENV = "NNPLAY_WORKSHOP"
COOKIE = "nnplay_owner"
STATE_KEY = "nnplay_owner"
BROWSER_PREFIX = "browser-"
COOKIE_MAX_AGE_S = 365 * 24 * 3600
# A token we wrote ourselves; anything else in the cookie is ignored, never echoed into a script.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")


def workshop_mode() -> bool:
    """True in workshop mode (NNPLAY_WORKSHOP=1): a shared server where learners have names."""
    return os.environ.get(WORKSHOP_ENV, "").strip() == "1"


def shared_server() -> bool:
    """True on a workshop server (NNPLAY_SHARED=1, or NNPLAY_WORKSHOP=1): runs then belong to the
    browser that made them."""
    return os.environ.get(SHARED_ENV, "").strip() == "1" or workshop_mode()


def owner_from_token(token: str) -> str:
    """The owner id stored for a browser token: a prefix and a short hash of it."""
    return BROWSER_PREFIX + hashlib.sha256(token.encode()).hexdigest()[:20]


def owner_id() -> str:
    """Who this session is: the OS user when not shared, else this browser's id (stable on reload).

    Call it from the page script (not from a thread you started): on a shared server the first
    call of a session may add an invisible element that writes the cookie.
    """
    if not shared_server():
        return local_owner()
    if STATE_KEY not in st.session_state:
        token = _cookie_token()
        if token is None:
            token = _session_token()
            _remember_in_browser(token)
        st.session_state[STATE_KEY] = owner_from_token(token)
    return st.session_state[STATE_KEY]


def known_owner() -> str:
    """This session's owner id without writing a cookie (safe in a button's callback): the id
    once ``owner_id()`` has run in this session, else this session's own id."""
    if not shared_server():
        return local_owner()
    return st.session_state.get(STATE_KEY) or owner_from_token(_session_token())


def can_delete(owner: str) -> bool:
    """Whether this session may delete a run of ``owner``: any run when not shared, else its own."""
    return not shared_server() or owner == owner_id()


def delete_owner() -> str | None:
    """The owner ``RunStore.delete`` checks against: None (any run) when not shared."""
    return owner_id() if shared_server() else None


def owner_label(owner: str) -> str:
    """How a run's owner is shown: "you", "another learner" (in workshop mode the name that
    learner chose), "unknown" or an OS user's name. Plain text: show it with a widget that
    escapes it, never as HTML."""
    if can_delete(owner):
        return "you"
    if not owner:
        return "unknown"
    if not owner.startswith(BROWSER_PREFIX):
        return owner
    if workshop_mode():
        from nnplay.ui.workshop import display_names

        return display_names().get(owner) or "another learner"
    return "another learner"


def _cookie_token() -> str | None:
    try:
        token = st.context.cookies.get(COOKIE)
    except Exception:  # no browser behind this session (bare script, some test harnesses)
        return None
    return token if isinstance(token, str) and _TOKEN.fullmatch(token) else None


def _session_token() -> str:
    ctx = get_script_run_ctx()
    session_id = ctx.session_id if ctx is not None else None
    if isinstance(session_id, str) and _TOKEN.fullmatch(session_id):
        return session_id
    return secrets.token_urlsafe(24)  # no usable session id: an id for this session alone


def _remember_in_browser(token: str) -> None:
    """Ask the browser to keep ``token`` so the next page load sends it back."""
    st.html(f"<script>document.cookie = '{COOKIE}={token}; Max-Age={COOKIE_MAX_AGE_S}; Path=/; "
            "SameSite=Lax' + (location.protocol === 'https:' ? '; Secure' : '');</script>",
            unsafe_allow_javascript=True)
