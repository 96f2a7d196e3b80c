"""Lesson: recurrent nets. Forecast a noisy signal with an RNN, LSTM or GRU and look inside it
(hidden states, gates, gradients through time); then race the three cells on a long-range memory
task and move the gap T to see the plain RNN fail where the gated cells remember.
"""

from __future__ import annotations

import streamlit as st

from nnplay.lessons import sequences as lab
from nnplay.models import build_model, summary
from nnplay.plots import sequences as plots
from nnplay.plots.training import training_curves_figure
from nnplay.train import TrainConfig, evaluate
from nnplay.train.jobs import Job
from nnplay.ui import cache, widgets
from nnplay.ui import workspace as ws
from nnplay.ui.jobs import (
    job_panel,
    job_running,
    settle_job,
    start_job,
    start_training_job,
)
from nnplay.ui.state import user_errors

FORECAST_JOB, MEMORY_JOB, MEMORY_RESULTS = "seq_job", "seq_memory_job", "seq_memory_results"
CELLS = ("rnn", "lstm", "gru")


def forecast_settings():
    """(dataset, spec, config) for the forecasting task, from the widgets."""
    c1, c2, c3, c4 = st.columns(4)
    cell = c1.selectbox("Cell", CELLS, index=1, key="seq_cell", format_func=plots.CELL_TITLES.get)
    hidden = c2.select_slider("Hidden size", (4, 8, 16, 32, 64), value=16, key="seq_hidden")
    seq_len = c3.slider("Window length T", 5, 60, 20, key="seq_len")
    noise = c4.slider("Noise", 0.0, 0.5, 0.05, key="seq_noise")
    c1, c2, c3 = st.columns(3)
    n = c1.select_slider("Windows", (100, 300, 600, 1000, 2000), value=1000, key="seq_n")
    epochs = int(c2.number_input("Epochs", 1, 200, 15, key="seq_epochs"))
    seed = int(c3.number_input("Seed", 0, 10_000, 0, key="seq_seed"))
    ds = cache.load_dataset("sine_forecast", n=n, seq_len=seq_len, noise=noise, seed=seed)
    spec = {"family": cell, "params": {"hidden_size": hidden}}
    config = TrainConfig(lr=0.005, batch_size=64, epochs=epochs, grad_clip=1.0, seed=seed)
    return ds, spec, config


def finish_forecast(job: dict) -> None:
    trainer, spec = job["worker"].trainer, job["spec"]
    job["metrics"] = evaluate(trainer.model, trainer.dataset)
    entry = ws.register(trainer, lesson="sequences", spec=spec,
                        name=f"{spec['family']} forecaster",
                        metrics={"r2": job["metrics"]["r2"]})
    job["name"] = entry.name if entry is not None else ""


def inside_the_net(model, ds, key: str) -> None:
    """Hidden-state trajectory, gates over time and the gradient through time for one window."""
    index = st.slider("Test sequence", 0, ds.n_test - 1, 0, key=f"{key}_index")
    x = ds.X_test[index]
    states = lab.hidden_trajectory(model, x)
    left, right = st.columns(2)
    left.plotly_chart(plots.hidden_states_figure(states), key=f"{key}_hidden_fig")
    right.plotly_chart(plots.hidden_pca_figure(lab.principal_directions(states)),
                       key=f"{key}_pca_fig")
    if model.cell in ("lstm", "gru"):
        st.markdown("**Gates over time** (first layer). Forget/update gates near 1 keep the "
                    "state; input gates near 1 let the new input in.")
        st.plotly_chart(plots.gates_figure(lab.gate_trajectories(model, x)), key=f"{key}_gates_fig")
    else:
        st.caption("A plain RNN has no gates: h_t = tanh(W x_t + U h_{t-1} + b) at every step.")
    norms = lab.gradient_norms(model, ds.X_test[:128], ds.y_test[:128])
    st.plotly_chart(plots.gradient_through_time_figure({model.cell: norms}), key=f"{key}_gtt_fig")
    st.caption(f"The loss's gradient reaching the first step is {norms[0] / norms[-1]:.2e} times "
               "the one at the last step.")


def forecasting_section() -> None:
    source = st.radio("Model", ["Train a new one", "A recurrent model from this session"],
                      horizontal=True, key="seq_source")
    if source != "Train a new one":
        picked = ws.model_picker("seq_pick", kind="sequence")
        if picked is not None and picked.family not in CELLS:
            st.info(f"{picked.name} is a {picked.family}; pick an RNN, LSTM or GRU.")
        elif picked is not None:
            inside_the_net(picked.model, picked.dataset, "seq_pick")
        return
    with user_errors("These settings"):
        ds, spec, config = forecast_settings()
        st.dataframe(summary(build_model(spec, ds), ds.input_shape), key="seq_summary")
        st.button("Train", type="primary", key="seq_train", on_click=start_training_job,
                  args=(FORECAST_JOB, ds, spec, config), disabled=job_running(FORECAST_JOB))
    done = job_panel(FORECAST_JOB, finish_forecast)
    if done is None:
        return
    trainer = done["worker"].trainer
    c1, c2, c3 = st.columns(3)
    c1.metric("Test RMSE", f"{done['metrics']['rmse']:.4f}")
    c2.metric("Test R²", f"{done['metrics']['r2']:.3f}")
    c3.metric("Training time (s)", f"{trainer.train_seconds:.1f}")
    st.caption(f"Added to this session's models as **{done['name']}**.")
    st.plotly_chart(training_curves_figure(trainer.history_copy(), "regression"), key="seq_curves")
    shown = lab.forecast_examples(trainer.model, trainer.dataset)
    st.plotly_chart(plots.forecast_figure(shown["windows"], shown["actual"], shown["forecast"]),
                    key="seq_forecast_fig")
    inside_the_net(trainer.model, trainer.dataset, "seq")


def memory_key(seq_len: int, cell: str, seed: int, n: int, epochs: int) -> tuple:
    return (seq_len, cell, seed, n, epochs)


def start_memory(seq_len: int, missing: list[str], seed: int, n: int, epochs: int) -> None:
    job = Job(lab.memory_race, seq_len, missing, n=n, epochs=epochs, seed=seed,
              label=f"memory T={seq_len}")
    start_job(MEMORY_JOB, job, settings=(seq_len, seed, n, epochs))


def finish_memory(job: dict) -> None:
    """Once: keep each cell's result for its (T, cell, seed) and register the models."""
    worker, (seq_len, seed, n, epochs) = job["worker"], job["settings"]
    if worker.status != "completed":
        return
    results = st.session_state.setdefault(MEMORY_RESULTS, {})
    group = f"memory race T={seq_len}, seed {seed}"
    for cell, result in worker.result.items():
        results[memory_key(seq_len, cell, seed, n, epochs)] = result
        ws.register(result.trainer, lesson="sequences", spec=result.spec,
                    name=f"{cell} memory T={seq_len}", group=group,
                    metrics={"accuracy": result.accuracy})


def memory_section() -> None:
    st.markdown("**First-token recall.** One of 4 tokens arrives at the first step, then T − 1 "
                "steps of noise; name the first token. Chance is 1 in 4.")
    c1, c2, c3, c4 = st.columns(4)
    seq_len = c1.slider("Gap T (steps to remember)", 5, 100, 40, step=5, key="seq_mem_T")
    epochs = int(c2.number_input("Epochs per cell", 1, 100, 25, key="seq_mem_epochs"))
    n = c3.select_slider("Sequences", (200, 500, 1000, 2000), value=1000, key="seq_mem_n")
    seed = int(c4.number_input("Seed", 0, 10_000, 0, key="seq_mem_seed"))
    bias = lab.memory_bias(seq_len)
    st.latex(lab.LSTM_CELL_LATEX)
    st.markdown(
        f"The gated cells start with a memory-keeping gate bias b = ln T = **{bias:.2f}** (forget "
        f"gate of the LSTM, update gate of the GRU). With PyTorch's bias 0 the gate starts at "
        f"0.5 and only {lab.memory_retention(0.0, seq_len):.1e} of the first token survives T "
        f"steps; with b = {bias:.2f} it starts at {lab.memory_retention(bias, 1):.3f}, and "
        f"{lab.memory_retention(bias, seq_len):.2f} survives, so the gradient reaches back to "
        "the first step from the start. A plain RNN has no gate: its state is rewritten at "
        "every step. Gradients are clipped to norm 1.")
    settle_job(MEMORY_JOB, finish_memory)  # a race that just ended fills the results first
    results = st.session_state.setdefault(MEMORY_RESULTS, {})
    missing = [c for c in CELLS if memory_key(seq_len, c, seed, n, epochs) not in results]
    st.button(f"Train {', '.join(plots.CELL_TITLES[c] for c in missing)} at T = {seq_len}"
              if missing else f"All three are trained at T = {seq_len}", type="primary",
              key="seq_mem_train", on_click=start_memory, args=(seq_len, missing, seed, n, epochs),
              disabled=job_running(MEMORY_JOB) or not missing)
    job_panel(MEMORY_JOB, finish_memory, what="Memory race")
    shown = {c: results[memory_key(seq_len, c, seed, n, epochs)] for c in CELLS
             if memory_key(seq_len, c, seed, n, epochs) in results}
    if not shown:
        return
    chance = next(iter(shown.values())).chance
    cols = st.columns(len(shown))
    for col, (cell, result) in zip(cols, shown.items(), strict=True):
        col.metric(f"{plots.CELL_TITLES[cell]} accuracy", f"{result.accuracy:.3f}",
                   delta=f"{result.accuracy - chance:+.3f} vs chance")
        col.caption(f"{result.seconds:.1f} s of training")
    left, right = st.columns(2)
    left.plotly_chart(plots.memory_accuracy_figure({c: r.accuracy for c, r in shown.items()},
                                                   chance, seq_len), key="seq_mem_fig")
    right.plotly_chart(plots.gradient_through_time_figure(
        {c: r.gradient_norms for c, r in shown.items()}), key="seq_mem_gtt_fig")
    tried = [{"seq_len": k[0], "cell": k[1], "accuracy": r.accuracy} for k, r in results.items()
             if k[2:] == (seed, n, epochs)]
    st.plotly_chart(plots.memory_vs_length_figure(tried, chance), key="seq_mem_length_fig")


st.title("Recurrent networks")
widgets.device_badge()
forecast_tab, memory_tab = st.tabs(["Forecasting a signal", "Long-range memory: T grows"])
with forecast_tab:
    st.markdown("A recurrent net reads a window one step at a time, updating its hidden state, "
                "and predicts the next value from the last state.")
    forecasting_section()
with memory_tab:
    memory_section()
