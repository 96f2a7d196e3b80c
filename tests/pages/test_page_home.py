"""The app shell: navigation over every lesson, the home page's map, no heavy imports on home."""

import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

from nnplay.ui.pages import SECTIONS, available_lessons

ROOT = Path(__file__).resolve().parents[2]


def test_app_opens_on_home_with_the_path_map():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "nnplay"
    text = " ".join(m.value for m in at.markdown)
    for lesson in available_lessons():
        assert lesson.section in text or lesson.section not in SECTIONS


def test_every_lesson_page_file_exists_and_is_listed():
    lessons = available_lessons()
    assert any(lesson.page == "pages/neuron.py" for lesson in lessons)
    assert all(lesson.section in SECTIONS for lesson in lessons)


def test_home_page_does_not_import_heavy_libraries():
    code = ("import sys\nfrom streamlit.testing.v1 import AppTest\n"
            f"at = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=60).run()\n"
            "assert not at.exception, at.exception\n"
            "heavy = [m for m in ('shap', 'lime', 'captum', 'transformers') if m in sys.modules]\n"
            "print('HEAVY', heavy)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "HEAVY []" in out.stdout


def test_every_lesson_is_a_link_and_start_here_is_in_order():
    from nnplay.ui.pages import START_HERE, start_here

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    links = [el.proto.label for el in at.get("page_link")]
    firsts = [lesson.title for lesson in start_here()]
    assert links[:len(firsts)] == [f"{i}. {t}" for i, t in enumerate(firsts, start=1)]
    assert [lesson.page for lesson in start_here()] == list(START_HERE)
    assert set(links[len(firsts):]) == {lesson.title for lesson in available_lessons()}
