"""Lesson: Green AI. Every training run here counts its FLOPs and estimates its energy and CO2;
this page says how the estimate is made on this machine, races a few small architectures on
one dataset to compare accuracy per joule and per FLOP (Schwartz et al. 2020), lists the
learner's stored runs with their footprint, and puts the numbers next to Strubell et al.'s
(2019) published figures.
"""

from __future__ import annotations

import streamlit as st

from nnplay.lessons import green_ai as lesson
from nnplay.plots import green_ai as plots
from nnplay.train import green, runs
from nnplay.train.jobs import Job
from nnplay.ui import cache, widgets
from nnplay.ui import workspace as ws
from nnplay.ui.jobs import job_panel, job_running, start_job
from nnplay.ui.owner import owner_id
from nnplay.ui.state import user_errors

JOB, RACE, COUNTRY, COUNT = "green_job", "green_race", "green_country", "green_races"


def country_section() -> str:
    """The grid the learner picks (kept across page visits); returns its ISO code."""
    names = green.countries()
    if not names:
        st.warning("codecarbon's carbon-intensity data is missing, so CO2 cannot be estimated; "
                   "FLOPs and energy still are.")
        return green.WORLD
    codes = list(names)
    chosen = st.session_state.get(COUNTRY, green.default_country())
    code = st.selectbox("Electricity grid", codes, index=codes.index(chosen) if chosen in codes
                        else 0, format_func=names.get, key="green_country_pick")
    st.session_state[COUNTRY] = code
    st.caption(f"{names[code]}: {green.carbon_intensity(code):,.0f} g CO2e per kWh "
               "(codecarbon's offline data, the numbers its OfflineEmissionsTracker uses for "
               "this country).")
    return code


def start_race(race: lesson.EfficiencyRace, ds) -> None:
    start_job(JOB, Job(race.fit, ds, label="green race"))


def finish_race(job: dict) -> None:
    """Once: keep the race (finished or stopped) and add its models to the session (their runs,
    with FLOPs and energy, go to the run store)."""
    race = job["worker"].result
    if race is None or not len(race.results_):
        return
    st.session_state[RACE] = race
    st.session_state[COUNT] = st.session_state.get(COUNT, 0) + 1
    group = f"green race {st.session_state[COUNT]} on {race.dataset_.name}"
    for name, trainer in race.trainers_.items():
        ws.register(trainer, lesson="green_ai", spec=race.specs_[name], name=f"{name} ({group})",
                    group=group, quiet=True)


def race_section(country: str) -> None:
    st.markdown("The same data, optimizer, batches and epochs for each architecture. The "
                "Trainer counts every run's FLOPs and adds up its energy epoch by epoch; "
                "codecarbon's own tracker runs around each training as a check.")
    c1, c2, c3, c4 = st.columns(4)
    name = c1.selectbox("Dataset", lesson.DATASETS, key="green_dataset")
    chosen = c2.multiselect("Architectures", list(lesson.ARCHITECTURES),
                            default=list(lesson.ARCHITECTURES), key="green_archs")
    epochs = int(c3.number_input("Epochs (each)", 1, 100, lesson.DEFAULT_EPOCHS,
                                 key="green_epochs"))
    seed = int(c4.number_input("Seed", 0, 10_000, 0, key="green_seed"))
    with user_errors("These settings"):
        ds = cache.load_dataset(name)
        race = lesson.EfficiencyRace(chosen, epochs=epochs, seed=seed, country=country)
        race.check(ds)
        st.button("Train and measure", type="primary", key="green_run", on_click=start_race,
                  args=(race, ds), disabled=job_running(JOB))
    job_panel(JOB, finish_race, what="Training")
    race = st.session_state.get(RACE)
    if race is None:
        return
    table = race.table(country)
    st.dataframe(lesson.formatted_results(table), hide_index=True, key="green_table")
    st.plotly_chart(plots.efficiency_figure(table), key="green_fig")
    st.markdown(race.verdict())
    if race.flops_against_energy():
        st.markdown(race.flops_against_energy())
    st.caption(race.codecarbon_check())


def runs_section(country: str) -> None:
    try:
        stored = runs.RunStore().list(owner=owner_id())
    except runs.RunStoreError as err:
        st.warning(f"The run store cannot be read: {err}")
        return
    mine = lesson.runs_footprint(stored, country)
    if mine.empty:
        st.info("No stored runs with a footprint yet: train a model here or on any page "
                "(Training lab, Playground, CNNs...) and it appears with its FLOPs and energy.")
        return
    st.dataframe(lesson.formatted_runs(mine), hide_index=True, key="green_runs")
    st.caption(f"{len(mine)} of your stored runs, newest first; CO2e on the grid chosen above.")


def perspective_section() -> None:
    race = st.session_state.get(RACE)
    table = race.table(st.session_state.get(COUNTRY)) if race is not None else None
    energy = float(table["energy_kwh"].sum()) if table is not None and \
        table["energy_kwh"].notna().any() else None
    co2 = float(table["co2_kg"].sum()) if table is not None and table["co2_kg"].notna().any() \
        else None
    st.caption(lesson.STRUBELL_SOURCE + f" Their conversion: {lesson.STRUBELL_LBS_PER_KWH} lbs "
               f"CO2e per kWh (the U.S. average) after a data-centre overhead (PUE) of "
               f"{lesson.STRUBELL_PUE}; 1 lb = {lesson.KG_PER_LB} kg.")
    st.dataframe(lesson.formatted_perspective(lesson.perspective(co2, energy)), hide_index=True,
                 key="green_strubell")
    if co2:
        st.plotly_chart(plots.perspective_figure(lesson.strubell_table(), co2, "your race"),
                        key="green_perspective_fig")
        st.markdown(lesson.perspective_sentence(co2, energy, "your race"))
    else:
        st.info("Run the race above to see your numbers next to theirs.")


st.title("Green AI")
widgets.device_badge()
st.markdown("Schwartz, Dodge, Smith and Etzioni (2020), *Green AI*: report what a result cost "
            "to compute, next to the result. FLOPs count the arithmetic whatever the hardware; "
            "energy and CO2 depend on the machine and on the grid that powers it.")
st.subheader("How energy is known on this machine")
st.info(green.power_model().describe() if green.enabled() else
        f"Energy measurement is switched off ({green.ENV_VAR}=0).")
st.caption(green.FLOPS_NOTE)
grid = country_section()
st.subheader("Accuracy per joule and per FLOP")
race_section(grid)
st.subheader("Your runs")
runs_section(grid)
st.subheader("In perspective")
perspective_section()
