"""Lesson: recurrent nets. Forecast a noisy signal with an RNN, LSTM or GRU and look inside it
(hidden states, gates, gradients through time); then see the gradient vanish through a plain RNN
at the start of training, and race the three cells on a long-range memory task at several gaps T
to see the plain RNN fall to guessing where the gated cells remember.
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
CELLS = lab.MEMORY_CELLS
GAP_CHOICES = tuple(range(5, 105, 5))
DELTA_COLORS = {"success": "green", "warning": "orange"}  # only a clear win is green


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
    norms = {model.cell: lab.gradient_norms(model, ds.X_test[:128], ds.y_test[:128])}
    st.plotly_chart(plots.gradient_through_time_figure(
        norms, f"Gradient through time in this trained {plots.CELL_TITLES[model.cell]}"),
        key=f"{key}_gtt_fig")
    st.caption(f"The forecast's loss on 128 test windows, differentiated with respect to the "
               f"hidden state at each step. {lab.gradient_sentence(norms, plots.CELL_TITLES)} "
               "The three cells side by side, before training: tab *Long-range memory*.")


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
        st.markdown("**The data**: windows of the noisy signal, and the value after each one "
                    "that the net learns to predict.")
        st.plotly_chart(plots.forecast_figure(ds.X_train[:4, :, 0], ds.y_train[:4]),
                        key="seq_signal_fig")
        st.dataframe(summary(build_model(spec, ds), ds.input_shape), key="seq_summary")
        st.button("Train", type="primary", key="seq_train", on_click=start_training_job,
                  args=(FORECAST_JOB, ds, spec, config), disabled=job_running(FORECAST_JOB))
    done = job_panel(FORECAST_JOB, finish_forecast)
    if done is None:
        return
    trainer = done["worker"].trainer
    c1, c2, c3 = st.columns(3)
    c1.metric("Test RMSE", lab.shown_number(done["metrics"]["rmse"], 4))
    c2.metric("Test R²", lab.shown_number(done["metrics"]["r2"]))
    c3.metric("Training time (s)", f"{trainer.train_seconds:.1f}")
    st.caption(f"Added to this session's models as **{done['name']}**.")
    st.plotly_chart(training_curves_figure(trainer.history_copy(), "regression"), key="seq_curves")
    shown = lab.forecast_examples(trainer.model, trainer.dataset)
    st.plotly_chart(plots.forecast_figure(shown["windows"], shown["actual"], shown["forecast"]),
                    key="seq_forecast_fig")
    inside_the_net(trainer.model, trainer.dataset, "seq")


def memory_key(seq_len: int, cell: str, seed: int, n: int, epochs: int) -> tuple:
    return (seq_len, cell, seed, n, epochs)


def start_memory(plan: dict, seed: int, n: int, epochs: int) -> None:
    job = Job(lab.memory_race, plan, n=n, epochs=epochs, seed=seed,
              label=f"memory T={', '.join(map(str, plan))}")
    start_job(MEMORY_JOB, job, settings=(seed, n, epochs))


def finish_memory(job: dict) -> None:
    """Once: keep each finished cell's result for its (T, cell, settings) and register the
    models; a stopped race keeps the cells it finished."""
    worker, (seed, n, epochs) = job["worker"], job["settings"]
    if worker.status not in ("completed", "stopped") or not worker.result:
        return
    results = st.session_state.setdefault(MEMORY_RESULTS, {})
    for (seq_len, cell), result in worker.result.items():
        group = f"memory race T={seq_len}, seed {seed}"
        results[memory_key(seq_len, cell, seed, n, epochs)] = result
        ws.register(result.trainer, lesson="sequences", spec=result.spec,
                    name=f"{cell} memory T={seq_len}", group=group,
                    metrics={"accuracy": result.accuracy})


@st.cache_data(max_entries=16, show_spinner=False)
def start_gradients(seq_len: int, n: int, seed: int) -> dict:
    return lab.initial_gradient_norms(seq_len, n=n, seed=seed)


def memory_settings() -> tuple[list[int], tuple[int, int, int]]:
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
    gaps = sorted(c1.multiselect("Gaps T to race (steps to remember)", GAP_CHOICES,
                                 default=lab.RACE_GAPS, key="seq_mem_gaps"))
    epochs = int(c2.number_input("Epochs per cell", 1, 100, 25, key="seq_mem_epochs"))
    n = c3.select_slider("Sequences", (200, 500, 1000, 2000), value=1000, key="seq_mem_n")
    seed = int(c4.number_input("Seed", 0, 10_000, 0, key="seq_mem_seed"))
    return gaps, (seed, n, epochs)


def race_chart(settings: tuple) -> None:
    """Accuracy against T for every gap raced with these settings, then each cell's verdict."""
    results = st.session_state.get(MEMORY_RESULTS, {})
    raced = {k[:2]: r for k, r in results.items() if k[2:] == settings}
    if not raced:
        st.info("Race the cells to see their test accuracy against T here.")
        return
    chance = next(iter(raced.values())).chance
    rows = [{"seq_len": t, "cell": c, "accuracy": r.accuracy} for (t, c), r in raced.items()]
    st.plotly_chart(plots.memory_vs_length_figure(rows, chance, lab.CLEAR_MARGIN),
                    key="seq_mem_length_fig")
    raced_gaps = sorted({t for t, _ in raced})
    seq_len = st.radio("Verdicts at T =", raced_gaps, index=len(raced_gaps) - 1, horizontal=True,
                       key="seq_mem_detail")
    shown = {c: raced[seq_len, c] for c in CELLS if (seq_len, c) in raced}
    for col, (cell, result) in zip(st.columns(3), shown.items(), strict=False):
        level, sentence = lab.chance_verdict(result.accuracy, result.chance,
                                             result.trainer.dataset.n_test)
        col.metric(f"{plots.CELL_TITLES[cell]} accuracy", lab.shown_number(result.accuracy),
                   delta=f"{result.accuracy - chance:+.3f} vs chance",
                   delta_color=DELTA_COLORS[level],
                   delta_arrow="auto" if level == "success" else "off")
        took = f"{result.seconds:.1f} s" if result.seconds >= 0.1 else "under 0.1 s"
        col.caption(f"{sentence} Training took {took}.")


def memory_section() -> None:
    st.markdown(f"**First-token recall.** One of {lab.MEMORY_TOKENS} tokens arrives at the first "
                f"step, then T − 1 steps of noise (std {lab.MEMORY_NOISE:g}); name the first "
                f"token. Guessing gets 1 in {lab.MEMORY_TOKENS}.")
    gaps, (seed, n, epochs) = memory_settings()
    if not gaps:
        st.info("Pick at least one gap T.")
        return
    longest = gaps[-1]
    bias = lab.memory_bias(longest)
    st.latex(lab.LSTM_CELL_LATEX)
    st.markdown(
        f"At T = {longest} the gated cells start with a memory-keeping gate bias b = ln T = "
        f"**{bias:.2f}** (forget "
        f"gate of the LSTM, update gate of the GRU). With PyTorch's bias 0 the gate starts at "
        f"0.5 and only {lab.shown_ratio(lab.memory_retention(0.0, longest))} of the first token "
        f"survives T steps; with b = {bias:.2f} it starts at "
        f"{lab.memory_retention(bias, 1):.3f}, and {lab.memory_retention(bias, longest):.2f} "
        "survives, so the gradient reaches back to the first step from the start. A plain RNN "
        "has no gate: its state is rewritten at every step. Gradients are clipped to norm 1.")
    norms = start_gradients(longest, n, seed)
    st.plotly_chart(plots.gradient_through_time_figure(
        norms, f"Gradient through time at the start of training, T = {longest}"),
        key="seq_mem_gtt_fig")
    st.caption(f"The loss on 128 test sequences of the longest gap, differentiated with respect "
               f"to the hidden state h_t at each step, before any training. "
               f"{lab.gradient_sentence(norms, plots.CELL_TITLES)}")
    settle_job(MEMORY_JOB, finish_memory)  # a race that just ended fills the results first
    results = st.session_state.setdefault(MEMORY_RESULTS, {})
    plan = lab.race_plan(gaps, [k[:2] for k in results if k[2:] == (seed, n, epochs)])
    st.button(f"Race the three cells at T = {', '.join(map(str, plan))}" if plan
              else "Every cell is trained at these gaps", type="primary", key="seq_mem_train",
              on_click=start_memory, args=(plan, seed, n, epochs),
              disabled=job_running(MEMORY_JOB) or not plan)
    job_panel(MEMORY_JOB, finish_memory, what="Memory race")
    race_chart((seed, n, epochs))


st.title("Recurrent networks")
widgets.device_badge()
forecast_tab, memory_tab = st.tabs(["Forecasting a signal", "Long-range memory: T grows"])
with forecast_tab:
    st.markdown("A recurrent net reads a window one step at a time, updating its hidden state, "
                "and predicts the next value from the last state.")
    forecasting_section()
with memory_tab:
    memory_section()
