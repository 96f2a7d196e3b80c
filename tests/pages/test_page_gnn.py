"""Headless tests of pages/gnn.py: on open, the GCN against the MLP at the default seeds with
the sentence built from those numbers, a trained GCN in the session's models with its embedding
animation, and the stepped convolution agreeing with PyG; another node and bad settings."""

from __future__ import annotations

import re

import plotly.io as pio
import pytest

pytestmark = pytest.mark.slow   # opening the page trains 10 networks (about 15 s here)
RAW = re.compile(r"\b(nan|NaN|None|inf|Infinity)\b")


def charts(at) -> dict:
    return {c.proto.id.rsplit("-", 1)[-1]: pio.from_json(c.proto.spec, skip_invalid=True)
            for c in at.get("plotly_chart")}


def shown_text(at) -> list[str]:
    texts = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "latex")
             for e in getattr(at, kind)]
    return texts + [m.label for m in at.metric] + [m.value for m in at.metric]


@pytest.fixture(scope="module")
def page():
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import PAGES

    at = AppTest.from_file(str(PAGES / "gnn.py"), default_timeout=180).run()
    assert not at.exception
    return at


def test_page_opens_with_measured_gcn_and_mlp_numbers(page):
    metrics = {m.label: m.value for m in page.metric}
    gcn, mlp = (int(metrics[f"{m}, mean accuracy"].rstrip("%")) for m in ("GCN", "MLP"))
    assert gcn >= 60 and mlp <= 45 and gcn > mlp + 20
    sentence = next(m.value for m in page.markdown if m.value.startswith("Over 5 seeds"))
    assert f"the GCN labels {gcn}%" in sentence and f", {mlp}% (" in sentence
    figures = charts(page)
    assert {"gnn_graph_fig", "gnn_seeds_fig", "gnn_pred_fig", "gnn_embed_fig",
            "gnn_focus_fig"} <= set(figures)
    assert len(figures["gnn_embed_fig"].frames) > 50 and figures["gnn_embed_fig"].layout.sliders
    for text in shown_text(page):
        assert not RAW.search(text), text


def test_the_trained_gcn_is_in_the_sessions_models_and_the_step_matches_pyg(page):
    names = [m.name for m in page.session_state["nnplay_workspace"].list()]
    assert any(name.startswith("gcn karate") for name in names)
    caption = next(c.value for c in page.caption if "GCNConv" in c.value)
    assert "Node 0 has 16 neighbours" in caption
    diff = float(re.search(r"largest difference ([0-9.e+-]+)\.$", caption).group(1))
    assert diff < 1e-5
    page.selectbox(key="gnn_node").set_value(11).run()
    assert not page.exception
    caption = next(c.value for c in page.caption if "GCNConv" in c.value)
    assert "Node 11 has 1 neighbour," in caption
    assert page.dataframe[0].value["sender j"].tolist() == ["0", "11 (itself)"]


def test_cora_says_what_to_do_when_it_is_not_here(page):
    from nnplay.data import graphs

    if graphs.cora_cached():
        pytest.skip("Cora is cached on this machine")
    assert any("Cora is not in" in i.value for i in page.info)
