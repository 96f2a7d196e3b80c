"""A canvas to draw a digit on, as a Streamlit component (components v2: inline HTML and JS, no
files, nothing fetched). White strokes on black, like MNIST; each stroke sends the drawing back as
a ``side`` x ``side`` grid of brightness values in [0, 1]. ``Clear`` wipes it."""

from __future__ import annotations

import numpy as np
import streamlit as st

SIDE = 56   # the grid sent back: fine enough to centre and scale, small enough to send per stroke

HTML = """
<div class="nnplay-draw">
  <canvas width="280" height="280"></canvas>
  <button type="button">Clear</button>
</div>
"""

CSS = """
.nnplay-draw { display: flex; flex-direction: column; gap: 6px; width: 280px; }
.nnplay-draw canvas { background: #000; border-radius: 6px; touch-action: none; cursor: crosshair; }
.nnplay-draw button { width: 80px; padding: 4px; border-radius: 6px; border: 1px solid #bbb;
                      background: var(--st-secondary-background-color, #f0f2f6); cursor: pointer; }
"""

JS = """
export default function(component) {
  const { data, setStateValue, parentElement } = component;
  const side = (data && data.side) || 56;
  const canvas = parentElement.querySelector('canvas');
  const button = parentElement.querySelector('button');
  const ctx = canvas.getContext('2d');
  if (canvas.dataset.ready) { return; }
  canvas.dataset.ready = '1';
  const wipe = () => { ctx.fillStyle = '#000'; ctx.fillRect(0, 0, canvas.width, canvas.height); };
  wipe();
  ctx.strokeStyle = '#fff'; ctx.lineWidth = 22; ctx.lineCap = 'round'; ctx.lineJoin = 'round';
  let drawing = false;
  const at = (e) => { const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height]; };
  const send = () => {
    const small = document.createElement('canvas'); small.width = side; small.height = side;
    const sctx = small.getContext('2d'); sctx.imageSmoothingQuality = 'high';
    sctx.drawImage(canvas, 0, 0, side, side);
    const px = sctx.getImageData(0, 0, side, side).data;
    const values = [];
    for (let i = 0; i < px.length; i += 4) { values.push(Math.round(px[i] / 2.55) / 100); }
    setStateValue('pixels', values);
  };
  canvas.addEventListener('pointerdown', (e) => { drawing = true; canvas.setPointerCapture(e.pointerId);
    const [x, y] = at(e); ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + 0.1, y); ctx.stroke(); });
  canvas.addEventListener('pointermove', (e) => { if (!drawing) return; const [x, y] = at(e);
    ctx.lineTo(x, y); ctx.stroke(); });
  const end = () => { if (drawing) { drawing = false; send(); } };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointerleave', end);
  button.addEventListener('click', () => { wipe(); setStateValue('pixels', []); });
}
"""

_canvas = st.components.v2.component("nnplay_draw_digit", html=HTML, css=CSS, js=JS)


def draw_digit(key: str) -> np.ndarray | None:
    """The canvas; returns the drawing as a (SIDE, SIDE) float array in [0, 1], or None when
    nothing is drawn yet (or it was cleared)."""
    result = _canvas(key=key, data={"side": SIDE}, default={"pixels": []},
                     on_pixels_change=lambda: None, width=300)
    values = (result or {}).get("pixels") or []
    if len(values) != SIDE * SIDE:
        return None
    grid = np.asarray(values, dtype=np.float32).reshape(SIDE, SIDE)
    return grid if grid.max() > 0.05 else None
