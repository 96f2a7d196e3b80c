"""Lab 3: sentiment with a transformer. A sentence through the tokenizer, the attention of every
layer and head, and which tokens drove the prediction; then a lexicon, TF-IDF, frozen sentence
embeddings and fine-tuning side by side on real reviews. Numbers come from
nnplay.lessons.lab_sentiment; figures from nnplay.plots.lab_sentiment.
"""

from __future__ import annotations

import streamlit as st

from nnplay.data import text as text_data
from nnplay.lessons import lab_sentiment as lesson
from nnplay.models import modelio
from nnplay.plots import lab_sentiment as plots
from nnplay.train.jobs import Job
from nnplay.ui import lab_sentiment_view, state
from nnplay.ui import workspace as ws
from nnplay.ui.jobs import job_panel, job_running, start_job
from nnplay.ui.state import user_errors
from nnplay.ui.widgets import device_badge

JOB, FROZEN_JOB = "ls_job", "ls_frozen_job"
SETTINGS, LAST = "ls_settings", "ls_last"
SENTENCE = "The plot was thin, but the performances were wonderful and the ending moved me."
WIDGETS = ("dataset", "sentence", "base", "n", "max_len", "steps", "train_layers", "seed")


def settings() -> dict:
    """The lab's settings, kept in session state across page visits (widgets are forgotten)."""
    defaults = {"dataset": lesson.DEFAULT_DATASET, "sentence": SENTENCE,
                "base": text_data.DEFAULT_BASE, **lesson.DEFAULTS}
    return state.kept_settings(SETTINGS, "ls_set_", {k: defaults[k] for k in WIDGETS})


def keep(name: str, value):
    st.session_state[SETTINGS][name] = value
    return value


def dataset_choice() -> str | None:
    missing = {n: text_data.available(n) for n in lesson.DATASETS}
    name = st.selectbox("Reviews", lesson.DATASETS, key="ls_set_dataset",
                        format_func=lambda n: text_data.CARDS[n].title
                        + (" (not on this machine)" if missing[n] else ""))
    if name != st.session_state[SETTINGS]["dataset"]:   # each dataset: its own review length
        st.session_state["ls_set_max_len"] = lesson.MAX_LEN_FOR[name]
    keep("dataset", name)
    st.caption(text_data.CARDS[name].markdown())
    if missing[name]:
        st.warning(missing[name])
        return None
    return name


def register(run, group: str = ""):
    same = lesson.same_frozen_model(ws.workspace().list(lesson="lab_sentiment"), run)
    if same is not None:   # the very same weights are in the session already
        return same
    entry = ws.register(lesson="lab_sentiment", spec=run.spec, model=run.model,
                        dataset=run.dataset, name=lesson.run_name(run), group=group,
                        metrics=lesson.run_metrics(run))
    return None if entry is None else entry.name


def start_frozen(name: str, kept: dict) -> None:
    start_job(FROZEN_JOB, Job(lesson.train_text, name, "frozen", seed=kept["seed"], n=kept["n"],
                              max_len=kept["max_len"], label="frozen classifier"))


def finish_frozen(job: dict) -> None:
    if job["worker"].status == "completed":
        st.session_state["ls_pick"] = register(job["worker"].result)


def pick_text_model(name: str, kept: dict):
    """A text model of this session; on a first visit the frozen classifier trains at once."""
    def text_models():
        return [m for m in ws.workspace().list() if m.family == "text"]

    if not text_models() and "ls_auto" not in st.session_state and not job_running(FROZEN_JOB):
        st.session_state["ls_auto"] = True   # once a session: then the button
        start_frozen(name, kept)
    job_panel(FROZEN_JOB, finish_frozen, what="Training the frozen classifier")
    models = text_models()
    if not models:
        st.button("Train the frozen classifier", key="ls_frozen_go", on_click=start_frozen,
                  args=(name, kept), disabled=job_running(FROZEN_JOB))
        return None
    labels = {m.name: m.label() for m in models}
    if st.session_state.get("ls_pick") not in labels:
        st.session_state["ls_pick"] = models[0].name
    return ws.workspace().get(st.selectbox("Model", list(labels), format_func=labels.get,
                                           key="ls_pick"))


def sentence_section(name: str, kept: dict) -> None:
    sentence = keep("sentence", st.text_area("Your sentence", max_chars=2000,
                                             key="ls_set_sentence"))
    entry = pick_text_model(name, kept)
    base = entry.model.base if entry else text_data.DEFAULT_BASE
    max_len = entry.dataset.extra.get("max_len", 64) if entry else lesson.MAX_LEN_FOR[name]
    view = text_data.tokens_of(sentence, base, max_len)
    st.subheader("1. The tokenizer")
    st.markdown(lesson.vocabulary_text(base))
    if view.truncated:
        st.warning(f"Your text has {view.n_tokens} tokens; this model reads {max_len}, so it "
                   f"was cut after the first {max_len - 1} (plus [SEP]).")
    st.plotly_chart(plots.tokenizer_figure(view), key="ls_tokens_fig")
    if entry is None:
        return
    steps = st.slider("Integrated-gradient steps", 10, 200, 50, step=10, key="ls_ig_steps")
    out = lab_sentiment_view.inspected(entry, sentence, steps)
    names = out["class_names"]
    st.subheader("2. The prediction")
    st.caption(lesson.model_text(entry.model))
    st.markdown(f"**{entry.name}** says **{names[out['predicted']]}** "
                f"(probability {out['proba'][out['predicted']]:.1%}).")
    st.plotly_chart(plots.probabilities_figure(out["proba"], names), key="ls_proba_fig")
    st.subheader("3. Attention, layer by layer")
    st.markdown("Each head mixes every token with the tokens it attends to (row: the token "
                "reading; column: the token read; a row sums to 1).")
    layer = st.select_slider("Layer", range(len(out["maps"])), key="ls_layer",
                             format_func=lambda i: f"{i + 1}")
    st.plotly_chart(plots.attention_heads_figure(out["maps"][layer], view.tokens, layer),
                    key="ls_attention_fig")
    st.caption(lesson.habits_text(out["maps"][layer], layer))
    st.subheader("4. Which tokens drove it")
    method = st.radio("Attribution", ["Integrated gradients", "Attention rollout"],
                      horizontal=True, key="ls_attr_method")
    if method == "Integrated gradients":
        st.markdown(lesson.IG_TEXT)
        values = out["ig"]["attributions"]
        st.plotly_chart(plots.token_strip_figure(view.tokens, values, [f"{v:+.2f}" for v in values],
                                                 signed=True, colorbar="towards " + names[
                                                     out["ig"]["target"]]), key="ls_ig_fig")
        st.latex(lesson.completeness_latex(out["ig"]))
    else:
        st.markdown(lesson.ROLLOUT_TEXT)
        values = out["rollout"]
        st.plotly_chart(plots.token_strip_figure(view.tokens, values, [f"{v:.1%}" for v in values],
                                                 colorbar="share"), key="ls_rollout_fig")


def start_comparison(name: str, kept: dict) -> None:
    history: list = []
    options = {k: kept[k] for k in ("base", "n", "steps", "train_layers", "max_len", "seed")}
    start_job(JOB, Job(lesson.comparison, name, history=history, label="sentiment comparison",
                       **options), history=history, settings={"dataset": name, **options})


def finish_comparison(job: dict) -> None:
    result = job["worker"].result
    if result is None:
        return
    group = f"lab_sentiment {job['worker'].started_at}"
    names = {key: register(run, group) for key, run in result.runs.items()
             if run.status == "completed" or key == "finetune"}
    st.session_state[LAST] = {"result": result, "settings": job["settings"], "models": names}


def comparison_settings(name: str, kept: dict) -> str:
    """The comparison's settings; returns why it cannot run here ('' when it can)."""
    base = keep("base", st.selectbox("Pretrained model", list(text_data.BASES), key="ls_set_base"))
    missing = text_data.base_available(base)
    if missing:
        st.warning(missing)
    c1, c2, c3, c4, c5 = st.columns(5)
    choices, st.session_state["ls_set_n"] = lesson.review_choices(
        name, st.session_state.get("ls_set_n", kept["n"]))
    keep("n", c1.select_slider("Reviews (train + test)", choices, key="ls_set_n"))
    keep("max_len", c2.select_slider("Tokens per review", lesson.MAX_LEN_CHOICES,
                                     key="ls_set_max_len"))
    keep("steps", int(c3.number_input("Fine-tuning steps", 1, 2000, step=10, key="ls_set_steps")))
    keep("train_layers", c4.selectbox("Layers fine-tuned", range(7), key="ls_set_train_layers",
                                      format_func=lesson.layers_label))
    keep("seed", int(c5.number_input("Seed", 0, 10_000, key="ls_set_seed")))
    last = st.session_state.get(LAST)
    st.caption(lesson.timing_text(last["result"] if last else None))
    return missing


def results_section(last: dict) -> None:
    result = last["result"]
    st.caption(lesson.run_caption(last["settings"], result))
    if not result.complete:
        st.warning("Stopped: the rows below are what finished (a stopped fine-tuning run is "
                   "tested as it stood).")
    st.dataframe(lesson.display_table(result.table), hide_index=True, key="ls_table")
    for note in lesson.table_notes(result.table):
        st.caption(note)
    st.plotly_chart(plots.comparison_figure(result.table, result.titles(short=True)),
                    key="ls_compare_fig")
    for line in lesson.findings(result):
        st.markdown(f"- {line}")
    run = result.runs.get("finetune")
    if run is not None and run.history:
        st.plotly_chart(plots.loss_curve_figure(run.history), key="ls_loss_fig")
    method = st.selectbox("Misclassified test reviews of", list(result.predictions),
                          format_func=result.titles().get, key="ls_wrong_method")
    st.dataframe(lesson.misclassified(result, method), hide_index=True, key="ls_wrong",
                 column_config={"review": st.column_config.TextColumn(width="large")})
    model_name = last["models"].get("finetune")
    if model_name in ws.workspace():
        entry = ws.workspace().get(model_name)
        st.caption(f"**{model_name}** is in this session's models: the Evaluation, "
                   "Explainability and Production pages can use it.")
        st.download_button(f"Download the fine-tuned model (zip, {entry.nbytes / 1e6:.0f} MB)",
                           lambda: modelio.export_bundle(entry.model, entry.record, entry.dataset),
                           file_name="minilm_sentiment.zip", mime="application/zip",
                           on_click="ignore", key="ls_download")


def comparison_section(name: str, kept: dict) -> None:
    missing = comparison_settings(name, kept)
    st.button("Run the comparison", type="primary", key="ls_go", on_click=start_comparison,
              args=(name, kept), disabled=job_running(JOB) or bool(missing))
    job_panel(JOB, finish_comparison, what="Comparison")
    if job_running(JOB):
        lab_sentiment_view.live_loss(st.session_state[JOB])
    last = st.session_state.get(LAST)
    if last is None and not job_running(JOB):
        st.info("Press **Run the comparison** to train and test all four methods on the same "
                "reviews.")
    elif last is not None:
        results_section(last)


def main() -> None:
    st.title("Lab: sentiment with a transformer")
    device_badge()
    st.markdown("all-MiniLM-L6-v2 is a small Transformer trained to turn sentences into vectors. "
                "Look inside it with a sentence of your own, then see whether it beats a "
                "sentiment lexicon and word counts at telling good reviews from bad, frozen or "
                "fine-tuned.")
    ws.show_notice()
    kept = settings()
    name = dataset_choice()
    if name is None:
        return
    inside, side_by_side = st.tabs(["Inside one sentence", "Four methods side by side"])
    with inside, user_errors("That sentence"):
        sentence_section(name, kept)
    with side_by_side, user_errors("These settings"):
        comparison_section(name, kept)


main()
