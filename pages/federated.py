"""Lesson: federated learning. FedAvg over simulated clients on handwritten digits: who holds
which digits under an IID and a non-IID split, test accuracy per round for both against central
training on the same rows (one background job with progress and Stop), and the bytes that would
travel. Results stay in the session for each setting.
"""

from __future__ import annotations

import streamlit as st

from nnplay.lessons import federated as fed
from nnplay.plots import federated as plots
from nnplay.train.jobs import Job
from nnplay.ui import cache, widgets
from nnplay.ui import workspace as ws
from nnplay.ui.jobs import job_panel, job_running, start_job
from nnplay.ui.state import user_errors

JOB, RESULTS, LAST = "fed_job", "fed_results", "fed_last"


def settings() -> fed.FedConfig:
    c1, c2, c3 = st.columns(3)
    dataset = c1.selectbox("Data", list(fed.DATASETS), key="fed_dataset",
                           format_func=fed.DATASETS.get)
    clients = int(c2.number_input("Clients N", *fed.LIMITS["clients"], 10, key="fed_clients"))
    fraction = c3.slider("Client fraction C (drawn each round)", 0.1, 1.0, 0.5, 0.1,
                         key="fed_fraction")
    c1, c2, c3 = st.columns(3)
    local_epochs = int(c1.number_input("Local epochs E", 1, 10, 1, key="fed_epochs"))
    rounds = int(c2.number_input("Rounds", 1, 200, 30, key="fed_rounds"))
    seed = int(c3.number_input("Seed", 0, 10_000, 0, key="fed_seed"))
    return fed.FedConfig(dataset, clients, "iid", rounds, local_epochs, fraction, seed=seed)


def start(config: fed.FedConfig) -> None:
    ds = cache.load_dataset(config.dataset)
    start_job(JOB, Job(fed.compare_splits, config, ds, label="fedavg"), config=config)


def finish(job: dict) -> None:
    """Keep what ran (all of it, or the settings a Stop left finished) and add the models."""
    result = job["worker"].result
    if result is None or result.history.empty:
        return
    config = job["config"]
    st.session_state.setdefault(RESULTS, {})[config] = result
    st.session_state[LAST] = config
    ds = cache.load_dataset(config.dataset)
    spec = {"family": "mlp", "params": {"hidden": [config.hidden], "activation": "relu"}}
    group = f"federated {config.dataset} N={config.clients} seed {config.seed}"
    final = result.final()
    for split, run in result.runs.items():
        if len(run.history_):
            ws.register(model=run.model_, dataset=ds, spec=spec, lesson="federated",
                        name=f"fedavg {split} {config.dataset} N{config.clients}",
                        group=group, metrics={"accuracy": final.get(split)}, quiet=True)
    if result.central is not None and result.central.history:
        ws.register(result.central, lesson="federated", group=group, quiet=True,
                    name=f"central {config.dataset} (federated reference)")


def class_mix_section(config: fed.FedConfig) -> None:
    ds = cache.load_dataset(config.dataset)
    counts = {split: fed.class_counts(ds.y_train, fed.partition(ds.y_train, config.clients,
                                                                split, config.seed), 10)
              for split in fed.SPLITS}
    st.plotly_chart(plots.class_mix_figure(counts, ds.class_names, fed.SPLITS),
                    key="fed_mix_fig")
    kinds = (counts["shards"] > 0).sum(axis=1)
    st.caption(f"{ds.n_train:,} training digits shared among {config.clients} clients, about "
               f"{ds.n_train // config.clients} each. Under the non-IID split a client holds "
               f"{kinds.min()} to {kinds.max()} different digits (IID: "
               f"{(counts['iid'] > 0).sum(axis=1).min()} to 10).")


def results_section(config: fed.FedConfig) -> None:
    results = st.session_state.get(RESULTS, {})
    shown = config if config in results else st.session_state.get(LAST)
    if shown is None:
        return
    result = results[shown]
    if shown != config:
        st.info("These are the last results, for other settings; press Run to see yours.")
    final = result.final()
    cols = st.columns(3)
    for col, setting in zip(cols, ("iid", "shards", "central")):
        value = final.get(setting)
        col.metric(f"{fed.SETTINGS[setting]}, final test accuracy",
                   "not run" if value is None else f"{value:.1%}")
    if not result.complete:
        st.warning("Stopped early: the curves show the rounds that finished.")
    st.plotly_chart(plots.accuracy_per_round_figure(result.history, fed.SETTINGS),
                    key="fed_rounds_fig")
    st.markdown(fed.comparison_sentence(result))
    st.subheader("What travels")
    run = next(iter(result.runs.values()), None)
    if run is None or not len(run.history_):
        return
    st.metric("Bytes per round", fed.human_bytes(run.history_["bytes_round"].iloc[0]))
    st.markdown(fed.traffic_sentence(shown, run.n_parameters_))
    sent = result.history[result.history.setting != "central"].assign(
        megabytes=lambda h: h["bytes_total"] / 1e6)
    st.plotly_chart(plots.accuracy_per_round_figure(sent, fed.SETTINGS, x="megabytes"),
                    key="fed_bytes_fig")


st.title("Federated learning")
widgets.device_badge()
st.markdown("Hospitals, phones and banks hold data they may not share. **Federated averaging** "
            "(FedAvg, McMahan et al. 2017) trains one model without moving the rows: each "
            "round the server sends the model to a fraction C of the N clients, each trains "
            "it for E local epochs on its own data, and the server averages the weights they "
            "send back, weighted by how many rows each has. Here the clients are simulated in "
            "plain PyTorch in this process; frameworks such as Flower run the same loop across "
            "real devices.")
with user_errors("These settings"):
    config = settings()
    st.subheader("Who holds what")
    class_mix_section(config)
    st.subheader("FedAvg against central training")
    st.caption(f"The same MLP ({config.hidden} hidden units) starts from the same weights "
               f"everywhere; clients and central training use SGD at learning rate "
               f"{config.lr:g} with batches of {config.batch_size}. Central training makes E "
               "passes over all the rows per round.")
    if RESULTS not in st.session_state and JOB not in st.session_state:
        start(config)   # a first visit runs the defaults at once
    st.button("Run IID, non-IID and central training", type="primary", key="fed_run",
              on_click=start, args=(config,), disabled=job_running(JOB))
    job_panel(JOB, finish, what="FedAvg")
    results_section(config)
ws.show_notice()
