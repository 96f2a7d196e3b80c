"""Lesson: convolutional networks. A kernel slides over a small image with the arithmetic of each
position shown, the output-size formula checks kernel, stride and padding, pooling shrinks a map;
then a CNN trains on handwritten digits and shows its learned filters and feature maps.
"""

from __future__ import annotations

import streamlit as st

from nnplay.lessons import cnn as conv
from nnplay.models import build_model, summary
from nnplay.plots import cnn as plots
from nnplay.plots.training import training_curves_figure
from nnplay.train import TrainConfig, evaluate, predict, predict_proba
from nnplay.ui import cache, widgets
from nnplay.ui import workspace as ws
from nnplay.ui.draw import draw_digit
from nnplay.ui.jobs import job_panel, job_running, start_training_job
from nnplay.ui.state import user_errors

JOB = "cnn_job"
DATASETS = ("digits", "mnist5k")
CHANNELS = {"8, 16": [8, 16], "16, 32": [16, 32], "32, 64": [32, 64], "8": [8], "8, 16, 32": [8, 16, 32]}
LEARNING_RATES = (3e-4, 1e-3, 2e-3, 3e-3, 1e-2)


def clamped_slider(label: str, n: int, key: str) -> int:
    """A 1..n position slider that keeps its value in range when n shrinks; returns 0-based."""
    if st.session_state.get(key, 1) > n:
        st.session_state[key] = n
    if n == 1:
        st.caption(f"{label}: 1 of 1")
        return 0
    return st.slider(label, 1, n, 1, key=key) - 1


def convolution_explainer() -> None:
    c1, c2, c3 = st.columns(3)
    image_name = c1.selectbox("Image", conv.SAMPLE_IMAGES, key="cnn_image")
    size = c2.slider("Image size n", 4, 10, 7, key="cnn_size")
    kernel_name = c3.selectbox("Kernel", conv.KERNELS, key="cnn_kernel")
    c1, c2, c3 = st.columns(3)
    k = c1.slider("Kernel size k", 1, 7, 3, key="cnn_k")
    s = c2.slider("Stride s", 1, 4, 1, key="cnn_stride")
    p = c3.slider("Padding p", 0, 4, 0, key="cnn_padding")
    fit = conv.conv_fit(size, k, s, p)
    st.latex(conv.CONV_OUTPUT_SIZE_LATEX)
    st.latex(fit.formula())
    if not fit.fits:
        st.error(fit.message)
        return
    if fit.message:
        st.warning(fit.message)
    image, kernel = conv.sample_image(image_name, size), conv.make_kernel(kernel_name, k)
    playing = st.toggle("▶ Slide the kernel by itself", key="cnn_autoplay")

    @st.fragment(run_every=0.8 if playing else None)
    def slide() -> None:
        if playing:   # one position further each tick, back to the start after the last
            st.session_state["cnn_position"] = st.session_state.get("cnn_position", 0) % \
                fit.output**2 + 1
        step = conv.conv_step(image, kernel, s, p,
                              clamped_slider("Kernel position", fit.output**2, "cnn_position"))
        st.plotly_chart(plots.conv_step_figure(step, p), key="cnn_step_fig")
        st.markdown("At this position the kernel and the window under it are multiplied element "
                    "by element and summed (pairs with a zero are left out):")
        st.latex(conv.step_arithmetic(step))

    slide()


def pooling_demo() -> None:
    c1, c2, c3 = st.columns(3)
    kind = c1.radio("Pooling", conv.POOL_KINDS, horizontal=True, key="cnn_pool_kind")
    size = c2.slider("Window (and stride)", 2, 3, 2, key="cnn_pool_size")
    image = conv.sample_image(c3.selectbox("Image", conv.SAMPLE_IMAGES, index=2,
                                           key="cnn_pool_image"), 8)
    pooled = conv.pool2d(image, size, kind)
    step = conv.pool_step(image, size, kind, clamped_slider("Window", pooled.size, "cnn_pool_pos"))
    st.plotly_chart(plots.pooling_figure(image, step, size, kind), key="cnn_pool_fig")
    keep = "the largest" if kind == "max" else "the mean"
    st.markdown(f"This window holds {step['window'].size} values and keeps {keep}: "
                f"**{step['value']:.3g}**. The map shrinks from {image.shape[0]}x{image.shape[1]} "
                f"to {pooled.shape[0]}x{pooled.shape[1]} ({image.size / pooled.size:.0f}x fewer "
                "numbers) and a small shift of the input barely changes it.")


def settings_panel():
    """(dataset, spec, config) from the widgets."""
    c1, c2, c3, c4 = st.columns(4)
    ds = cache.load_dataset(c1.selectbox("Dataset", DATASETS, key="cnn_dataset"))
    channels = CHANNELS[c2.selectbox("Channels per conv block", list(CHANNELS), key="cnn_channels")]
    kernel = c3.selectbox("Kernel size", (3, 5), key="cnn_train_k")
    epochs = int(c4.number_input("Epochs", 1, 100, 10, key="cnn_epochs"))
    c1, c2, c3, c4 = st.columns(4)
    lr = c1.select_slider("Learning rate", LEARNING_RATES, value=2e-3, key="cnn_lr")
    batch_norm = c2.checkbox("Batch norm", key="cnn_bn")
    dropout = c3.slider("Dropout", 0.0, 0.5, 0.0, step=0.05, key="cnn_dropout")
    seed = int(c4.number_input("Seed", 0, 10_000, 0, key="cnn_seed"))
    spec = {"family": "cnn", "params": {"channels": channels, "kernel_size": kernel,
                                        "padding": kernel // 2, "batch_norm": batch_norm,
                                        "dropout": dropout}}
    config = TrainConfig(optimizer="adam", lr=lr, batch_size=64, epochs=epochs,
                         schedule="cosine", seed=seed)
    return ds, spec, config


def finish(job: dict) -> None:
    """Once: measure the model on the test split and add it to the session's models."""
    trainer = job["worker"].trainer
    job["metrics"] = evaluate(trainer.model, trainer.dataset)
    entry = ws.register(trainer, lesson="cnn", spec=job["spec"],
                        name=f"cnn on {trainer.dataset.name}",
                        metrics={"accuracy": job["metrics"]["accuracy"]})
    job["name"] = entry.name if entry is not None else ""


def inspect_model(model, ds, history=None) -> None:
    """Learned filters, and the feature maps of one test image at every layer."""
    if history:
        st.plotly_chart(training_curves_figure(history, "classification"), key="cnn_curves")
    st.subheader("Learned filters of the first conv layer")
    st.plotly_chart(plots.filters_figure(conv.learned_filters(model)), key="cnn_filters_fig")
    st.subheader("Feature maps of one test image")
    index = st.slider("Test image", 0, ds.n_test - 1, 0, key="cnn_image_index")
    image = ds.X_test[index]
    guess = int(predict(model, image[None])[0])
    left, right = st.columns([1, 3])
    left.plotly_chart(plots.image_figure(image, f"label {ds.y_test[index]}, predicted {guess}"),
                      key="cnn_input_fig")
    layer_maps(right, model, image, "test")
    st.subheader("Draw a digit")
    c1, c2, c3 = st.columns([1, 1, 2])
    with c1:
        grid = draw_digit("cnn_draw")
    if grid is None:
        c2.info("Draw a digit with the mouse (or a finger); every layer's response and the "
                "network's answer appear here.")
        return
    drawn = conv.prepare_drawing(grid, ds.input_shape)
    c2.plotly_chart(plots.image_figure(drawn, "what the network sees"), key="cnn_drawn_fig")
    proba = predict_proba(model, drawn[None])[0]
    c3.plotly_chart(plots.class_probabilities_figure(proba, ds.class_names or range(len(proba))),
                    key="cnn_softmax_fig")
    layer_maps(st, model, drawn, "drawn")


def layer_maps(where, model, image, key: str) -> None:
    """Every layer's maps for ``image``; click a map (or pick it) to see how it is computed."""
    where.caption("Each row is a layer (conv, then its activation, then pooling), on one colour "
                  "scale; each square a channel. Click a map to see how it is computed.")
    maps = conv.layer_feature_maps(model, image)
    event = where.plotly_chart(plots.feature_maps_figure(maps), key=f"cnn_maps_{key}",
                               on_select="rerun", selection_mode="points")
    convs = [i for i, (name, _) in enumerate(maps) if name.startswith("conv")]
    points = ((event or {}).get("selection") or {}).get("points") or []
    picked = plots.feature_map_cell(points[0]) if points else None
    if picked is not None:   # a click on any row of a block shows that block's conv
        st.session_state[f"cnn_{key}_layer"] = sum(i <= picked[0] for i in convs)
        st.session_state[f"cnn_{key}_channel"] = picked[1] + 1
    c1, c2 = where.columns(2)
    layer = c1.selectbox("Conv layer", range(1, len(convs) + 1), key=f"cnn_{key}_layer")
    n_out = model.conv_layers()[layer - 1].out_channels
    if st.session_state.get(f"cnn_{key}_channel", 1) > n_out:
        st.session_state[f"cnn_{key}_channel"] = 1
    channel = c2.selectbox("Channel", range(1, n_out + 1), key=f"cnn_{key}_channel")
    parts = conv.channel_convolution(model, image, layer - 1, channel - 1)
    where.plotly_chart(plots.channel_convolution_figure(parts), key=f"cnn_channel_{key}")


def training_section() -> None:
    source = st.radio("Model", ["Train a new CNN", "A CNN from this session"], horizontal=True,
                      key="cnn_source")
    if source == "A CNN from this session":
        picked = ws.model_picker("cnn_pick", kind="image")
        if picked is not None and picked.family != "cnn":
            st.info(f"{picked.name} is a {picked.family}, not a CNN: it has no filters to show.")
        elif picked is not None:
            st.dataframe(summary(picked.model, picked.dataset.input_shape), key="cnn_summary_pick")
            inspect_model(picked.model, picked.dataset, picked.history)
        return
    with user_errors("These settings"):
        ds, spec, config = settings_panel()
        st.caption(f"{ds.n_train} training and {ds.n_test} test images of "
                   f"{ds.input_shape[1]}x{ds.input_shape[2]} pixels.")
        table = summary(build_model(spec, ds), ds.input_shape)
        st.dataframe(table, key="cnn_summary")
        st.caption(f"{table.attrs['total_params']:,} parameters, "
                   f"{table.attrs['total_macs']:,} multiply-accumulates per image.")
        st.button("Train", type="primary", key="cnn_train", on_click=start_training_job,
                  args=(JOB, ds, spec, config), disabled=job_running(JOB))
    done = job_panel(JOB, finish)
    if done is None:
        return
    trainer = done["worker"].trainer
    c1, c2, c3 = st.columns(3)
    c1.metric("Test accuracy", f"{done['metrics']['accuracy']:.3f}")
    c2.metric("Training time (s)", f"{trainer.train_seconds:.1f}")
    c3.metric("Epochs", f"{trainer.epoch}")
    st.caption(f"Added to this session's models as **{done['name']}** ({trainer.status}).")
    inspect_model(trainer.model, trainer.dataset, trainer.curve_history())


st.title("Convolutional networks")
widgets.device_badge()
explain_tab, pool_tab, train_tab = st.tabs(["Convolution step by step", "Pooling",
                                            "Train a CNN on digits"])
with explain_tab:
    st.markdown("A convolution slides a small kernel of weights over the image. At each position "
                "it multiplies the kernel with the pixels under it and adds them up: one output "
                "number. The same weights are used everywhere, so a pattern is found wherever it is.")
    convolution_explainer()
with pool_tab:
    pooling_demo()
with train_tab:
    training_section()
