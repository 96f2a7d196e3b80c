"""Cached loaders: datasets are cached by name and parameters, shared read-only across sessions."""

from __future__ import annotations

import json

import streamlit as st

from nnplay import data
from nnplay.data.dataset import Dataset


@st.cache_data(max_entries=32, show_spinner="Loading data...")
def _load(name: str, params_json: str) -> Dataset:
    return data.load(name, **json.loads(params_json))


def load_dataset(name: str, **params) -> Dataset:
    """data.load through st.cache_data, keyed by the name and the sorted parameters."""
    return _load(name, json.dumps(params, sort_keys=True))


@st.cache_data(max_entries=8, show_spinner="Reading your file...")
def dataset_from_csv(raw: bytes, target: str | None, task: str | None) -> Dataset:
    """data.from_csv through st.cache_data, keyed by the file's bytes and the choices."""
    return data.from_csv(raw, target=target, task=task)
