"""The engine side of each lesson: ``nnplay/lessons/X.py`` serves ``pages/X.py`` and its figures
live in ``nnplay/plots/X.py``, with the same X.

``LESSON_IDS`` is the one vocabulary for "which lesson made this": a model record's ``lesson``
and a run's ``source`` take one of these ids, or one of ``OTHER_SOURCES`` for work done outside
the app's lessons.
"""

LESSON_IDS = ("neuron", "backprop", "optimizers", "gradients", "playground", "training_lab",
              "cnn", "sequences", "transformer", "architectures", "evaluate", "explain",
              "bias_audit", "robustness")
OTHER_SOURCES = ("cli", "notebook", "upload")
SOURCES = LESSON_IDS + OTHER_SOURCES


def check_source(source: str) -> str:
    """``source`` when it is a lesson id or another known source; ValueError naming them if not."""
    if source not in SOURCES:
        raise ValueError(f"Unknown lesson {source!r}; use one of {', '.join(SOURCES)}.")
    return source
