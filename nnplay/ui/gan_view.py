"""The GANs page's live view, drawn in the browser as GAN Lab draws it.

A components-v2 component (inline HTML, CSS and JS; nothing fetched, no media files) that gets
plain numbers from nnplay.lessons.gan_view.view_payload on every refresh and draws them on
canvases: the plane with the discriminator's map (green where it says real, purple where it says
fake), real samples (green), fakes (purple), the push on each fake (arrows), the generator's map
of its input grid (coloured cells) and the ring's modes (a ring when covered, dashed when not);
beside it the generator's input square with the same cell colours; under them the losses and
the modes covered. Checkboxes show or hide each layer (in the browser, no rerun); hovering the
plane shows the point and the discriminator's value there.
"""

from __future__ import annotations

import json

import streamlit as st

from nnplay.ui.playground_view import SETUP_CANVAS_JS

HTML = """
<div class="ganv">
  <div class="ganv-row">
    <div><canvas class="ganv-plane"></canvas><div class="ganv-caption"></div></div>
    <div><canvas class="ganv-latent"></canvas>
      <div class="ganv-caption">The generator's input: a grid over the square of noise z.
        Each cell has the colour of the cell it becomes on the plane.</div>
      <div class="ganv-layers"></div></div>
  </div>
  <canvas class="ganv-curves"></canvas>
  <div class="ganv-tip" hidden></div>
</div>
"""

CSS = """
.ganv { position: relative; font: 12px/1.3 "Source Sans Pro", sans-serif; color: #333; }
.ganv-row { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.ganv canvas { display: block; }
.ganv-caption { margin-top: 4px; color: #666; max-width: 420px; }
.ganv-layers { margin-top: 10px; display: flex; flex-direction: column; gap: 3px; }
.ganv-layers label { cursor: pointer; }
.ganv-curves { margin-top: 10px; }
.ganv-tip { position: absolute; pointer-events: none; background: #fff; border: 1px solid #bbb;
            border-radius: 4px; padding: 3px 6px; white-space: nowrap; z-index: 2; }
.ganv-tip[hidden] { display: none; }
"""

JS = SETUP_CANVAS_JS + r"""
const REAL = [26, 152, 80], FAKE = [142, 68, 173], MID = [250, 250, 250], PUSH = [214, 39, 120];
const LAYERS = [['map', "Discriminator's map"], ['real', 'Real samples'], ['fake', 'Fake samples'],
                ['arrows', 'Gradients on fakes'], ['manifold', "Generator's grid"], ['modes', 'Ring modes']];
const mix = (a, b, t) => [0, 1, 2].map(k => a[k] + (b[k] - a[k]) * t);
const css = (c, a = 1) => `rgba(${c[0] | 0},${c[1] | 0},${c[2] | 0},${a})`;
const fmt = (v, d = 3) => (v === null || v === undefined || !isFinite(v)) ? 'diverged' : v.toFixed(d);
// A latent cell's colour from its place in the square: four corner colours, mixed.
const CORNERS = [[230, 85, 13], [253, 208, 35], [49, 130, 189], [116, 196, 118]];
const cellColour = (u, v) => mix(mix(CORNERS[0], CORNERS[1], u), mix(CORNERS[2], CORNERS[3], u), v);


function mapCanvas(values, n) {          // row 0 at the bottom of the plane
  const c = document.createElement('canvas'); c.width = n; c.height = n;
  const ctx = c.getContext('2d'), img = ctx.createImageData(n, n);
  for (let r = 0; r < n; r++) for (let k = 0; k < n; k++) {
    const v = values[r * n + k], o = ((n - 1 - r) * n + k) * 4;
    const rgb = v === null ? [200, 200, 200] : v < 0.5 ? mix(FAKE, MID, v * 2) : mix(MID, REAL, v * 2 - 1);
    img.data[o] = rgb[0]; img.data[o + 1] = rgb[1]; img.data[o + 2] = rgb[2]; img.data[o + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

function drawPlane(st) {
  const d = st.data, size = st.size, pad = 24, ctx = setupCanvas(st.plane, size + pad, size + pad);
  ctx.clearRect(0, 0, size + pad, size + pad);
  const [lo, hi] = d.plane, px = (x) => (x - lo) / (hi - lo) * size, py = (y) => (hi - y) / (hi - lo) * size;
  const on = st.layers;
  ctx.save(); ctx.beginPath(); ctx.rect(0, 0, size, size); ctx.clip();   // nothing spills out
  if (on.map) {
    ctx.globalAlpha = 0.65; ctx.imageSmoothingEnabled = true; ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(mapCanvas(d.real_map, d.res), 0, 0, size, size); ctx.globalAlpha = 1;
  }
  const n = d.latent_res, m = d.manifold, at = (i, j) => [m.x[i * n + j], m.y[i * n + j]];
  if (on.manifold) {
    for (let i = 0; i + 1 < n; i++) for (let j = 0; j + 1 < n; j++) {
      const q = [at(i, j), at(i, j + 1), at(i + 1, j + 1), at(i + 1, j)];
      if (q.some(p => p[0] === null || p[1] === null)) continue;
      ctx.beginPath(); ctx.moveTo(px(q[0][0]), py(q[0][1]));
      for (const p of q.slice(1)) ctx.lineTo(px(p[0]), py(p[1]));
      ctx.closePath(); ctx.fillStyle = css(cellColour((j + 0.5) / (n - 1), (i + 0.5) / (n - 1)), 0.35);
      ctx.fill(); ctx.strokeStyle = 'rgba(90,60,120,0.45)'; ctx.lineWidth = 0.7; ctx.stroke();
    }
  }
  if (on.modes && d.modes) {
    const r = d.modes.radius / (hi - lo) * size;
    d.modes.x.forEach((x, k) => {
      const ok = d.modes.counts[k] >= d.modes.need;
      ctx.beginPath(); ctx.arc(px(x), py(d.modes.y[k]), r, 0, 2 * Math.PI);
      ctx.setLineDash(ok ? [] : [4, 3]); ctx.strokeStyle = ok ? css(REAL) : '#777';
      ctx.lineWidth = ok ? 2 : 1; ctx.stroke(); ctx.setLineDash([]);
    });
  }
  const dots = (pts, colour) => {
    ctx.fillStyle = css(colour, 0.85);
    for (let k = 0; k < pts.x.length; k++) {
      if (pts.x[k] === null || pts.y[k] === null) continue;
      ctx.beginPath(); ctx.arc(px(pts.x[k]), py(pts.y[k]), 2.3, 0, 2 * Math.PI); ctx.fill();
    }
  };
  if (on.real) dots(d.real, REAL);
  if (on.fake) dots(d.fake, FAKE);
  if (on.arrows) {
    const a = d.arrows; ctx.strokeStyle = css(PUSH, 0.85); ctx.fillStyle = css(PUSH, 0.85); ctx.lineWidth = 1.2;
    for (let k = 0; k < a.x.length; k++) {
      if ([a.x[k], a.y[k], a.dx[k], a.dy[k]].some(v => v === null)) continue;
      const x0 = px(a.x[k]), y0 = py(a.y[k]), x1 = px(a.x[k] + a.dx[k]), y1 = py(a.y[k] + a.dy[k]);
      const len = Math.hypot(x1 - x0, y1 - y0); if (len < 1) continue;
      ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
      const ang = Math.atan2(y1 - y0, x1 - x0), h = Math.min(5, len / 2);
      ctx.beginPath(); ctx.moveTo(x1, y1);
      ctx.lineTo(x1 - h * Math.cos(ang - 0.5), y1 - h * Math.sin(ang - 0.5));
      ctx.lineTo(x1 - h * Math.cos(ang + 0.5), y1 - h * Math.sin(ang + 0.5)); ctx.fill();
    }
  }
  ctx.restore();
  ctx.strokeStyle = '#999'; ctx.lineWidth = 1; ctx.strokeRect(0.5, 0.5, size - 1, size - 1);
  ctx.fillStyle = '#555'; ctx.font = '11px sans-serif';
  for (let t = 0; t <= 4; t++) {
    const v = lo + (hi - lo) * t / 4;
    ctx.textAlign = 'center'; ctx.fillText(+v.toFixed(1), Math.min(size - 8, Math.max(8, px(v))), size + 14);
    ctx.textAlign = 'left'; ctx.fillText(+v.toFixed(1), size + 3, Math.min(size - 2, Math.max(10, py(v) + 4)));
  }
  const wgan = d.loss === 'wasserstein_gp';
  st.caption.textContent = (wgan ? "Critic's score, scaled to this view: green high (real), purple low (fake). "
    : "Discriminator's P(real): green near 1, white 0.5, purple near 0. ")
    + 'Dots: real (green), fake (purple); arrows: where the generator pushes each fake'
    + (d.gradient_max !== null ? ` (longest ${fmt(d.gradient_max)})` : '') + '.';
}

function drawLatent(st) {
  const d = st.data, size = 200, ctx = setupCanvas(st.latent, size, size), n = d.latent_res, cell = size / (n - 1);
  ctx.clearRect(0, 0, size, size);
  for (let i = 0; i + 1 < n; i++) for (let j = 0; j + 1 < n; j++) {
    ctx.fillStyle = css(cellColour((j + 0.5) / (n - 1), (i + 0.5) / (n - 1)), 0.6);
    ctx.fillRect(j * cell, size - (i + 1) * cell, cell, cell);
  }
  ctx.strokeStyle = 'rgba(90,60,120,0.5)'; ctx.lineWidth = 0.7;
  for (let k = 0; k < n; k++) {
    ctx.beginPath(); ctx.moveTo(k * cell, 0); ctx.lineTo(k * cell, size); ctx.stroke();
    ctx.beginPath(); ctx.moveTo(0, k * cell); ctx.lineTo(size, k * cell); ctx.stroke();
  }
  ctx.strokeStyle = '#999'; ctx.strokeRect(0.5, 0.5, size - 1, size - 1);
}

function drawCurves(st) {
  const c = st.data.curves, w = Math.max(420, Math.min(820, st.root.clientWidth - 10)), h = 130;
  const ctx = setupCanvas(st.curves, w, h);
  ctx.clearRect(0, 0, w, h);
  if (!c.step.length) return;
  const modes = st.data.modes, half = modes ? (w - 20) / 2 : w - 10;
  const panel = (x0, series, title, yMax, yMin) => {
    const top = 22, bottom = h - 16, left = x0 + 4, right = x0 + half - 36, last = c.step[c.step.length - 1] || 1;
    let hi = yMax, lo = yMin;
    if (hi === undefined) { hi = -Infinity; lo = Infinity;
      for (const [v] of series) for (const x of v) if (x !== null && isFinite(x)) { hi = Math.max(hi, x); lo = Math.min(lo, x); }
      if (!isFinite(hi)) { hi = 1; lo = 0; } if (hi === lo) { hi += 1; lo -= 1; } }
    const sx = (s) => left + (right - left) * s / last, sy = (v) => bottom - (bottom - top) * (v - lo) / (hi - lo);
    ctx.strokeStyle = '#ccc'; ctx.lineWidth = 1; ctx.strokeRect(left + 0.5, top + 0.5, right - left, bottom - top);
    let x = left; ctx.font = '12px sans-serif'; ctx.textAlign = 'left';
    for (const [v, colour, name, digits] of series) {
      ctx.strokeStyle = colour; ctx.lineWidth = 1.5; ctx.beginPath(); let open = false;
      v.forEach((y, k) => { if (y === null || !isFinite(y)) { open = false; return; }
        if (open) ctx.lineTo(sx(c.step[k]), sy(y)); else ctx.moveTo(sx(c.step[k]), sy(y)); open = true; });
      ctx.stroke();
      const end = v.length - 1, none = end < 0 || (v[end] === null && !c.step[end]);   // step 0: no loss yet
      const text = `${name} ${none ? '–' : fmt(v[end], digits)}`;
      ctx.fillStyle = colour; ctx.fillRect(x, 8, 12, 3); ctx.fillStyle = '#333'; ctx.fillText(text, x + 16, 14);
      x += ctx.measureText(text).width + 30;
    }
    ctx.fillStyle = '#666'; ctx.font = '11px sans-serif';
    ctx.fillText(+hi.toPrecision(3), right + 4, top + 8); ctx.fillText(+lo.toPrecision(3), right + 4, bottom);
    ctx.fillText('step 0', left, h - 3); ctx.textAlign = 'right'; ctx.fillText(last.toLocaleString(), right, h - 3);
  };
  panel(0, [[c.d_loss, css(REAL), 'D loss', 3], [c.g_loss, css(FAKE), 'G loss', 3]], 'Losses');
  if (modes) panel(half + 20, [[c.covered, '#1f77b4', `Modes covered (of ${modes.n})`, 0],
                               [c.high_quality.map(v => v === null ? null : v * modes.n), '#999', 'High quality ×' + modes.n, 1]],
                   'Coverage', modes.n, 0);
}

function decode(raw) {
  if (raw instanceof ArrayBuffer) raw = new Uint8Array(raw);
  return ArrayBuffer.isView(raw) ? JSON.parse(new TextDecoder().decode(raw)) : raw;
}

function redraw(st) {
  drawPlane(st); drawLatent(st); drawCurves(st);
  st.root.dataset.step = st.data.step;
  st.root.dataset.draws = (+(st.root.dataset.draws || 0) + 1);
}

export default function (component) {
  const { parentElement } = component, data = decode(component.data);
  const root = parentElement.querySelector('.ganv');
  if (!root.__ganv) {
    const st = { root, plane: root.querySelector('.ganv-plane'), latent: root.querySelector('.ganv-latent'),
                 curves: root.querySelector('.ganv-curves'), tip: root.querySelector('.ganv-tip'),
                 caption: root.querySelector('.ganv-caption'), size: 400, layers: {} };
    root.__ganv = st;
    const box = root.querySelector('.ganv-layers');
    for (const [key, label] of LAYERS) {
      st.layers[key] = true;
      const l = document.createElement('label'), input = document.createElement('input');
      input.type = 'checkbox'; input.checked = true; input.dataset.layer = key;
      input.addEventListener('change', () => { st.layers[key] = input.checked; drawPlane(st); });
      l.append(input, ' ' + label); box.append(l);
    }
    st.plane.addEventListener('mousemove', (ev) => {
      const d = st.data, r = st.plane.getBoundingClientRect(), o = root.getBoundingClientRect();
      const x = ev.clientX - r.left, y = ev.clientY - r.top, s = st.size;
      if (x > s || y > s) { st.tip.hidden = true; return; }
      const [lo, hi] = d.plane, col = Math.round(x / s * (d.res - 1)), row = Math.round((1 - y / s) * (d.res - 1));
      const v = d.real_map[row * d.res + col];
      const what = d.loss === 'wasserstein_gp' ? 'critic (scaled)' : 'D says real';
      st.tip.textContent = `x ${(lo + (hi - lo) * x / s).toFixed(2)}, y ${(hi - (hi - lo) * y / s).toFixed(2)}: ${what} ${fmt(v, 2)}`;
      st.tip.hidden = false; st.tip.style.left = (ev.clientX - o.left + 14) + 'px'; st.tip.style.top = (ev.clientY - o.top + 12) + 'px';
    });
    st.plane.addEventListener('mouseleave', () => { st.tip.hidden = true; });
  }
  const st = root.__ganv;
  st.data = data;
  const modesBox = root.querySelector('input[data-layer="modes"]');
  if (modesBox) modesBox.parentElement.style.display = data.modes ? '' : 'none';
  redraw(st);
}
"""

_view = st.components.v2.component("nnplay_gan_view", html=HTML, css=CSS, js=JS)


def gan_view(payload: dict, key: str) -> None:
    """Draw the payload (see nnplay.lessons.gan_view.view_payload) in the browser."""
    # As JSON bytes: Streamlit sends bytes as they are, where a dict would be scanned and
    # encoded twice on every refresh (the Playground's view does the same).
    raw = json.dumps(payload, separators=(",", ":")).encode()
    _view(key=key, data=raw, width="stretch")
