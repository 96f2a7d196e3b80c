"""The learning path as a Graphviz diagram (DOT text for st.graphviz_chart)."""

from __future__ import annotations

from collections.abc import Sequence


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def learning_path_dot(lessons: Sequence, sections: Sequence[str]) -> str:
    """Sections top to bottom, each a box of its lessons in a row, arrows along the path.

    ``lessons`` are objects with ``.section`` and ``.title`` (nnplay.ui.pages.Lesson).
    """
    lines = ["digraph path {", "  rankdir=TB; nodesep=0.25; ranksep=0.3;",
             '  node [shape=box, style="rounded,filled", fillcolor="#eef4ff", color="#4c78a8", '
             'fontname="Helvetica", fontsize=11];', '  edge [color="#9aa8bb"];']
    previous = None
    for i, section in enumerate(sections):
        members = [lesson for lesson in lessons if lesson.section == section]
        if not members:
            continue
        lines.append(f"  subgraph cluster_{i} {{ label={_quote(section)}; fontname=Helvetica; "
                     'fontsize=12; color="#c8d3e0"; style=rounded;')
        row = "; ".join(_quote(lesson.title) for lesson in members)
        lines.append(f"    {{ rank=same; {row}; }}")
        lines.append("  }")
        for lesson in members:
            if previous is not None:
                lines.append(f"  {_quote(previous)} -> {_quote(lesson.title)};")
            previous = lesson.title
    lines.append("}")
    return "\n".join(lines)
