"""The engine side of each lesson: ``nnplay/lessons/X.py`` serves ``pages/X.py`` and its figures
live in ``nnplay/plots/X.py``, with the same X.

The lesson ids (``LESSON_IDS``) are the one vocabulary for "which lesson made this": a model
record's ``lesson`` and a run's lesson take one of them, or one of ``OTHER_SOURCES`` for work
done outside the lessons. They are defined with the model record (``nnplay.train.record``), below
the lessons, so the shared concepts can check them without importing any lesson.
"""

from nnplay.train.record import LESSON_IDS, OTHER_SOURCES, SOURCES, check_source

__all__ = ["LESSON_IDS", "OTHER_SOURCES", "SOURCES", "check_source"]
