"""Headless tests of pages/federated.py: a first visit runs FedAvg (IID and non-IID) and central
training at the defaults in the background and shows the measured accuracies, curves and bytes;
a stopped run keeps its finished rounds; other settings run on request; no raw nan/None."""

from __future__ import annotations

import re

import plotly.io as pio
import pytest

from nnplay.lessons import federated as fed

RAW = re.compile(r"\b(nan|NaN|None|inf|Infinity)\b")
ACCURACY = re.compile(r"^\d{1,3}\.\d%$")


def charts(at) -> dict:
    return {c.proto.id.rsplit("-", 1)[-1]: pio.from_json(c.proto.spec, skip_invalid=True)
            for c in at.get("plotly_chart")}


def shown_text(at) -> list[str]:
    texts = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "latex")
             for e in getattr(at, kind)]
    return texts + [m.label for m in at.metric] + [m.value for m in at.metric]


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def assert_clean(at) -> None:
    for text in shown_text(at):
        assert not RAW.search(text), text


@pytest.mark.slow
def test_first_visit_runs_the_defaults_and_shows_measured_numbers(open_page, finish_job):
    at = open_page("federated")
    assert "fed_mix_fig" in charts(at)
    assert any("Under the non-IID split a client holds" in c.value for c in at.caption)
    at = finish_job(at, "fed_job", timeout=300)
    shown = metrics(at)
    values = {s: shown[f"{fed.SETTINGS[s]}, final test accuracy"] for s in fed.SETTINGS}
    assert all(ACCURACY.match(v) for v in values.values()), values
    iid, shards = (float(values[s].rstrip("%")) for s in ("iid", "shards"))
    assert iid > shards and iid > 85
    sentence = next(m.value for m in at.markdown if m.value.startswith("After 30 rounds"))
    assert f"FedAvg, IID {values['iid']}" in sentence and "non-IID clients trail" in sentence
    assert shown["Bytes per round"] == "192.4 kB"
    assert any("4,810 parameters × 4 bytes × 5 clients × 2 directions" in m.value
               for m in at.markdown)
    figures = charts(at)
    assert [t.name for t in figures["fed_rounds_fig"].data] == list(fed.SETTINGS.values())
    assert len(figures["fed_bytes_fig"].data) == 2
    names = [m.name for m in at.session_state["nnplay_workspace"].list()]
    assert {"fedavg iid digits N10", "fedavg shards digits N10"} <= set(names)
    assert_clean(at)


def test_a_stopped_run_keeps_its_rounds_and_other_settings_run_on_request(open_page, finish_job):
    at = open_page("federated")
    at.session_state["fed_job"]["worker"].stop()
    at = finish_job(at, "fed_job")
    if "fed_results" in at.session_state:   # a Stop after the first round keeps it
        assert any("Stopped early" in w.value for w in at.warning)
    at.number_input(key="fed_rounds").set_value(3)
    at.number_input(key="fed_clients").set_value(5).run()
    at.button(key="fed_run").click().run()
    assert not at.exception
    at = finish_job(at, "fed_job")
    assert "other settings" not in " ".join(i.value for i in at.info)
    assert any(m.value.startswith("After 3 rounds") for m in at.markdown)
    assert metrics(at)["central training, final test accuracy"].endswith("%")
    assert_clean(at)
