"""Lesson: Transformers. Scaled dot-product attention worked through with numbers for a short
input (Q, K, V, scores, softmax, weighted sum); then a small encoder learns to reverse or sort
token sequences, with its attention maps per layer and head, positional encodings and embeddings.
"""

from __future__ import annotations

import streamlit as st

from nnplay.lessons import transformer as tl
from nnplay.models import build_model
from nnplay.plots import transformer as plots
from nnplay.plots.training import training_curves_figure
from nnplay.train import TrainConfig, predict
from nnplay.ui import cache, widgets
from nnplay.ui import workspace as ws
from nnplay.ui.jobs import job_panel, job_running, start_training_job
from nnplay.ui.state import user_errors

JOB = "tf_job"
STEPS = ("1. queries, keys, values", "2. scores QKᵀ", "3. scale by √d_k", "4. softmax",
         "5. weighted sum of V")


def attention_walkthrough() -> None:
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
    text = c1.text_input("A short input (2 to 8 words)", "the cat sat down", key="tf_words")
    d_model = c2.slider("Embedding size", 2, 6, 3, key="tf_d_model_demo")
    d_k = c3.slider("d_k", 1, 4, 2, key="tf_d_k")
    seed = int(c4.number_input("Seed", 0, 1000, 0, key="tf_demo_seed"))
    tokens = tl.parse_tokens(text)
    ex = tl.attention_example(tokens, d_model, d_k, seed)
    st.latex(tl.ATTENTION_LATEX)
    st.info("The embeddings X and the matrices W_q, W_k, W_v here are **random numbers** drawn "
            "with the seed, not learned: this part shows the arithmetic of attention, not what "
            "it learns. The encoder trained further down shows learned attention maps.",
            icon=":material/casino:")
    stage = STEPS.index(st.select_slider("Step", STEPS, key="tf_step"))
    dims = [f"d{j + 1}" for j in range(d_k)]
    if stage == 0:
        st.markdown("Each token's embedding (a row of X) is multiplied by three matrices (learned "
                    "in a trained model, random here): "
                    "Q = X W_q asks *what am I looking for*, K = X W_k says *what I contain*, "
                    "V = X W_v is *what I pass on*.")
        st.plotly_chart(plots.matrix_figure(ex["X"], tokens, [f"e{j + 1}" for j in range(d_model)],
                                            "X (embeddings)"), key="tf_x_fig")
        cols = st.columns(3)
        for col, name in zip(cols, ("Q", "K", "V"), strict=True):
            col.plotly_chart(plots.matrix_figure(ex[name], tokens, dims, f"{name} = X W_{name.lower()}"),
                             key=f"tf_{name}_fig")
        return
    query = st.selectbox("Follow the query of", range(len(tokens)), key="tf_query",
                         format_func=lambda i: f"{i + 1}: {tokens[i]}")
    name, title, zmid = {1: ("scores", "QKᵀ: one dot product per query-key pair", 0.0),
                         2: ("scaled", f"QKᵀ / √{d_k}", 0.0),
                         3: ("weights", "softmax over each row (rows sum to 1)", None),
                         4: ("weights", "attention weights used to mix V", None)}[stage]
    left, right = st.columns(2)
    left.plotly_chart(plots.matrix_figure(ex[name], tokens, tokens, title, zmid=zmid,
                                          colorscale="Blues" if zmid is None else "RdBu",
                                          highlight_row=query), key="tf_scores_fig")
    if stage == 4:
        right.plotly_chart(plots.matrix_figure(ex["output"], tokens, dims,
                                               "output = weights · V", highlight_row=query),
                           key="tf_output_fig")
    else:
        right.plotly_chart(plots.matrix_figure(ex["K"], tokens, dims, "K (the keys)"),
                           key="tf_keys_fig")
    lines = tl.query_row_latex(ex, query)
    for line in lines[: {1: 1, 2: 1, 3: 2, 4: 3}[stage]]:
        st.latex(line)


def encoder_settings():
    c1, c2, c3, c4 = st.columns(4)
    task = c1.selectbox("Task", tl.TOY_TASKS, key="tf_task",
                        format_func=lambda t: t.replace("_sequence", " a sequence"))
    seq_len = c2.slider("Sequence length", 3, 10, 6, key="tf_seq_len")
    vocab = c3.slider("Vocabulary", 3, 12, 8, key="tf_vocab")
    n = c4.select_slider("Sequences", (200, 500, 1000, 2000, 4000), value=2000, key="tf_n")
    c1, c2, c3, c4, c5 = st.columns(5)
    d_model = c1.selectbox("d_model", (8, 16, 32, 64), index=2, key="tf_d_model")
    heads = c2.selectbox("Heads", (1, 2, 4), index=1, key="tf_heads")
    layers = c3.selectbox("Layers", (1, 2, 3), index=1, key="tf_layers")
    positional = c4.selectbox("Positions", tl.POSITIONAL, key="tf_positional")
    epochs = int(c5.number_input("Epochs", 1, 200, 15, key="tf_epochs"))
    ds = cache.load_dataset(task, n=n, seq_len=seq_len, vocab_size=vocab, seed=0)
    spec = tl.encoder_spec(d_model, heads, layers, positional)
    return ds, spec, TrainConfig(lr=0.003, batch_size=64, epochs=epochs, seed=0)


def finish(job: dict) -> None:
    trainer, spec = job["worker"].trainer, job["spec"]
    job["metrics"] = tl.sequence_accuracy(trainer.model, trainer.dataset)
    entry = ws.register(trainer, lesson="transformer", spec=spec,
                        name=f"transformer on {trainer.dataset.name}",
                        metrics={"accuracy": job["metrics"]["token_accuracy"]})
    job["name"] = entry.name if entry is not None else ""


def inspect_encoder(model, ds) -> None:
    """One test sequence: prediction, attention per layer and head, positions, embeddings."""
    index = st.slider("Test sequence", 0, ds.n_test - 1, 0, key="tf_example")
    x = ds.X_test[index]
    guess = predict(model, x[None])[0]
    st.plotly_chart(plots.token_prediction_figure(list(x), list(ds.y_test[index]), list(guess)),
                    key="tf_prediction_fig")
    st.markdown("**Attention maps**: row = the token asking (query), column = the token it "
                "reads (key). For reversal, a good head reads the mirrored position.")
    st.plotly_chart(plots.attention_maps_figure(tl.attention_maps(model, x),
                                                [str(t) for t in x]), key="tf_attention_fig")
    left, right = st.columns(2)
    table = tl.position_table(model, len(x))
    if table is None:
        left.info("This model has no positional encodings: attention alone cannot tell where a "
                  "token is, so it cannot learn to reverse or sort.")
    else:
        left.plotly_chart(plots.positional_encoding_figure(table, model.positional),
                          key="tf_positions_fig")
    right.plotly_chart(plots.embeddings_figure(tl.embedding_points(model),
                                               [str(v) for v in range(model.vocab_size)]),
                       key="tf_embeddings_fig")


def encoder_section() -> None:
    source = st.radio("Model", ["Train a new encoder", "A Transformer from this session"],
                      horizontal=True, key="tf_source")
    if source != "Train a new encoder":
        picked = ws.model_picker("tf_pick", kind="sequence")
        if picked is not None and (picked.family != "transformer" or picked.model.vocab_size is None):
            st.info(f"{picked.name} is not a Transformer over token ids; pick one trained here.")
        elif picked is not None:
            inspect_encoder(picked.model, picked.dataset)
        return
    with user_errors("These settings"):
        ds, spec, config = encoder_settings()
        st.dataframe(tl.encoder_summary(build_model(spec, ds), ds.input_shape[0]),
                     key="tf_summary")
        st.button("Train", type="primary", key="tf_train", on_click=start_training_job,
                  args=(JOB, ds, spec, config), disabled=job_running(JOB))
    done = job_panel(JOB, finish)
    if done is None:
        return
    trainer = done["worker"].trainer
    c1, c2, c3 = st.columns(3)
    c1.metric("Tokens right (test)", f"{done['metrics']['token_accuracy']:.3f}")
    c2.metric("Whole sequences right", f"{done['metrics']['sequence_accuracy']:.3f}")
    c3.metric("Training time (s)", f"{trainer.train_seconds:.1f}")
    st.caption(f"Added to this session's models as **{done['name']}**.")
    st.plotly_chart(training_curves_figure(trainer.curve_history()), key="tf_curves")
    inspect_encoder(trainer.model, trainer.dataset)


st.title("Transformers")
widgets.device_badge()
attention_tab, encoder_tab = st.tabs(["Attention, step by step", "Train a small encoder"])
with attention_tab, user_errors("That input"):
    attention_walkthrough()
with encoder_tab:
    encoder_section()
