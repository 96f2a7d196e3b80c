"""Lesson: graph neural networks. Zachary's karate club with one labelled member per community:
a GCN, which passes messages along the friendships, against an MLP that sees each member alone,
over several seeds; the GCN's node embeddings moving while it trains; one graph convolution
stepped for a node the learner picks, checked against PyTorch Geometric; Cora when it is cached.
"""

from __future__ import annotations

import streamlit as st

from nnplay.data import graphs
from nnplay.lessons import gnn as lab
from nnplay.plots import gnn as plots
from nnplay.train.jobs import Job
from nnplay.ui import widgets
from nnplay.ui import workspace as ws
from nnplay.ui.jobs import job_panel, job_running, start_job
from nnplay.ui.state import user_errors

SEEDS_KEY, RUNS_KEY, CORA_JOB = "gnn_seed_results", "gnn_runs", "gnn_cora_job"


@st.cache_resource(show_spinner=False)
def karate():
    """The graph and its drawing positions: read-only, shared by every session."""
    graph = graphs.karate_graph()
    return graph, lab.layout(graph), lab.undirected_edges(graph)


def settings() -> dict:
    c1, c2, c3, c4 = st.columns(4)
    hidden = c1.select_slider("Hidden units", (2, 4, 8, 16, 32, 64), value=lab.HIDDEN,
                              key="gnn_hidden")
    dropout = c2.slider("Dropout", 0.0, 0.8, lab.DROPOUT, 0.1, key="gnn_dropout")
    epochs = int(c3.number_input("Epochs", 1, lab.MAX_EPOCHS, lab.EPOCHS, 10, key="gnn_epochs"))
    lr = c4.select_slider("Learning rate", (0.001, 0.003, 0.01, 0.03, 0.1), value=lab.LR,
                          key="gnn_lr")
    return {"hidden": hidden, "dropout": dropout, "epochs": epochs, "lr": lr}


def seeds_section(graph, chosen: dict) -> None:
    seeds = int(st.number_input("Seeds", 1, lab.MAX_SEEDS, lab.SEEDS, key="gnn_seeds"))
    key = (seeds, *chosen.values())
    store = st.session_state.setdefault(SEEDS_KEY, {})
    if key not in store:
        with st.spinner(f"Training a GCN and an MLP at {seeds} seeds…"):
            store[key] = lab.compare_over_seeds(graph, seeds, **chosen)
    results = store[key]
    summary = lab.comparison_summary(results, graph)
    c1, c2, c3 = st.columns(3)
    c1.metric("GCN, mean accuracy", f"{summary['gcn']['mean']:.0%}")
    c2.metric("MLP, mean accuracy", f"{summary['mlp']['mean']:.0%}")
    c3.metric("Seeds the GCN won", f"{summary['wins']} of {summary['seeds']}")
    st.plotly_chart(plots.seeds_figure(results, summary["uniform"], summary["majority"],
                                       lab.MODELS), key="gnn_seeds_fig")
    st.markdown(summary["sentence"])


def trained_run(graph, chosen: dict, seed: int) -> lab.GCNRun:
    """The GCN for these settings, trained once per session and added to its models."""
    runs = st.session_state.setdefault(RUNS_KEY, {})
    key = (seed, *chosen.values())
    if key not in runs:
        with st.spinner("Training the GCN…"):
            run = lab.train_gcn(graph, seed=seed, **chosen)
        entry = ws.register(run.trainer, lesson="gnn", quiet=True,
                            name=f"gcn karate h{chosen['hidden']} seed {seed}",
                            metrics={"accuracy": run.accuracy})
        runs[key] = (run, entry.name if entry is not None else "")
    return runs[key][0]


def training_section(graph, positions, edges, run: lab.GCNRun) -> None:
    st.metric("This GCN's accuracy on the 30 unlabelled members", f"{run.accuracy:.0%}")
    st.plotly_chart(plots.graph_figure(positions, edges, graph.y, graph.class_names,
                                       graph.train_nodes, predicted=run.predictions,
                                       title="What the GCN predicts (black ring: wrong)"),
                    key="gnn_pred_fig")
    st.markdown("**The embeddings move.** Each node's hidden layer, projected on the two "
                "directions that spread the final layer most (the same axes for every epoch). "
                "Press Play, or drag the slider: members of one community pull together, "
                "labelled or not, because they share friends.")
    frames = lab.embedding_frames(run)
    st.plotly_chart(plots.embedding_figure(frames, run.epochs, graph.y, graph.class_names,
                                           graph.train_nodes), key="gnn_embed_fig")


def message_section(graph, positions, edges, run: lab.GCNRun) -> None:
    st.latex(lab.GCN_LATEX)
    st.markdown("d counts a node's neighbours plus itself (the self-loop). The features h_j "
                "of a karate member are its one-hot row, so W h_j is column j of the first "
                "layer's weights W.")
    node = st.selectbox("Node", range(graph.n_nodes), index=0, key="gnn_node",
                        format_func=lambda i: f"node {i} ({len(graph.neighbours(i))} neighbours)")
    step = lab.step_convolution(run.model, graph, node)
    st.plotly_chart(plots.graph_figure(positions, edges, graph.y, graph.class_names,
                                       graph.train_nodes, focus=node), key="gnn_focus_fig")
    st.dataframe(step.table, hide_index=True, key="gnn_msg_table",
                 column_config={c: st.column_config.NumberColumn(format="%.3f")
                                for c in step.table.columns if "[" in c})
    st.markdown(f"Sum of the messages plus the bias: h'_{node} = "
                f"{lab.shown_vector(step.total)}  \nPyTorch Geometric's GCNConv: "
                f"{lab.shown_vector(step.pyg)}")
    st.caption(lab.message_passing_sentence(step, graph))


def finish_cora(job: dict) -> None:
    worker = job["worker"]
    if worker.result is not None and len(worker.result):
        st.session_state["gnn_cora_results"] = worker.result


def cora_section() -> None:
    if not graphs.cora_cached():
        st.info(graphs.how_to_get_cora())
        return
    st.markdown("Cora: 2,708 papers citing each other, 140 labelled; the same two networks "
                "at 3 seeds (a GCN on papers and citations, an MLP on each paper's words).")
    try:
        graph = graphs.cora_graph()
    except graphs.GraphUnavailable as err:
        st.warning(str(err))
        return
    st.button("Compare on Cora", key="gnn_cora_go", disabled=job_running(CORA_JOB),
              on_click=lambda: start_job(CORA_JOB, Job(lab.compare_over_seeds, graph, 3,
                                                       label="cora")))
    job_panel(CORA_JOB, finish_cora, what="Cora")
    results = st.session_state.get("gnn_cora_results")
    if results is not None:
        summary = lab.comparison_summary(results, graph)
        st.plotly_chart(plots.seeds_figure(results, summary["uniform"], summary["majority"],
                                           lab.MODELS), key="gnn_cora_fig")
        st.markdown(summary["sentence"])


st.title("Graph neural networks")
widgets.device_badge()
graph, positions, edges = karate()
st.markdown(f"Zachary's karate club: {graph.n_nodes} members, {graph.n_edges} friendships. "
            f"The club is split into {len(graph.class_names)} communities; only the "
            f"{len(graph.train_nodes)} stars are labelled. Can a network name the others' "
            "community? An MLP sees each member alone; a graph convolutional network (GCN) "
            "also hears from its friends.")
st.plotly_chart(plots.graph_figure(positions, edges, graph.y, graph.class_names,
                                   graph.train_nodes, title="The communities (stars: labelled)"),
                key="gnn_graph_fig")
with user_errors("These settings"):
    chosen = settings()
    seeds_tab, train_tab, message_tab, cora_tab = st.tabs(
        ["GCN against MLP", "Embeddings in training", "Message passing, stepped", "Cora"])
    with seeds_tab:
        seeds_section(graph, chosen)
    seed = int(st.session_state.get("gnn_run_seed", 0))
    run = trained_run(graph, chosen, seed)
    with train_tab:
        st.number_input("Seed of this GCN", 0, 10_000, 0, key="gnn_run_seed")
        training_section(graph, positions, edges, run)
    with message_tab:
        message_section(graph, positions, edges, run)
    with cora_tab:
        cora_section()
ws.show_notice()
