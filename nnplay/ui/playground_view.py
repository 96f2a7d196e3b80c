"""The Playground's live view, drawn in the browser as TensorFlow Playground draws it.

A components-v2 component (inline HTML, CSS and JS; nothing fetched, no media files) that gets
plain numbers from nnplay.lessons.playground.view.view_payload on every refresh and draws them
on three canvases: the network, each node holding its own small map (an output unit: its class's
probability), edges whose width and colour follow the weights; the output over the input plane
with the data points; and the train and test loss from epoch 0. Hovering a node,
a bias or an edge shows its value (a hovered node's map also fills the big canvas, as in TFP);
clicking an edge or a bias opens a box to type a new value, reported as the ``edit`` state
``{"layer", "i", "j", "value", "bias", "n"}`` (n: a timestamp, so typing the same value twice
still counts as an edit).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import streamlit as st

HTML = """
<div class="pgv">
  <div class="pgv-net"><canvas class="pgv-net-canvas"></canvas></div>
  <div class="pgv-out">
    <canvas class="pgv-out-canvas"></canvas>
    <div class="pgv-caption"></div>
    <canvas class="pgv-loss-canvas"></canvas>
  </div>
  <div class="pgv-tip" hidden></div>
  <div class="pgv-edit" hidden><label></label><input type="number" step="0.01"></div>
</div>
"""

CSS = """
.pgv { position: relative; display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start;
       font: 12px/1.3 "Source Sans Pro", sans-serif; color: #333; }
.pgv canvas { display: block; }
.pgv-net-canvas { cursor: default; }
.pgv-caption { margin-top: 4px; color: #666; max-width: 400px; }
.pgv-loss-canvas { margin-top: 8px; }
.pgv-tip { position: absolute; pointer-events: none; background: #fff; border: 1px solid #bbb;
           border-radius: 4px; padding: 3px 6px; box-shadow: 0 1px 4px rgba(0,0,0,.15);
           white-space: nowrap; z-index: 2; }
.pgv-edit { position: absolute; background: #fff; border: 1px solid #0877bd; border-radius: 4px;
            padding: 4px 6px; z-index: 3; display: flex; gap: 6px; align-items: center;
            box-shadow: 0 2px 6px rgba(0,0,0,.2); }
.pgv-edit[hidden], .pgv-tip[hidden] { display: none; }
.pgv-edit input { width: 80px; font: inherit; padding: 2px 4px; }
"""

# A canvas sized in CSS pixels and drawn sharp on any screen (the GAN view uses it too).
SETUP_CANVAS_JS = r"""
function setupCanvas(canvas, w, h) {
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    canvas.style.width = w + 'px'; canvas.style.height = h + 'px';
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}
"""

JS = SETUP_CANVAS_JS + r"""
const NEG = [245, 147, 34], MID = [232, 234, 235], POS = [8, 119, 189];
const CLASS = [[245, 147, 34], [8, 119, 189], [44, 160, 44], [148, 103, 189], [214, 39, 40]];
const mix = (a, b, t) => [0, 1, 2].map(k => a[k] + (b[k] - a[k]) * t);
// TFP's scale: -1 orange, 0 light grey, +1 blue, clamped.
const diverging = (v) => {
  if (v === null || !isFinite(v)) return [200, 200, 200];
  const t = Math.max(-1, Math.min(1, v));
  return t < 0 ? mix(MID, NEG, -t) : mix(MID, POS, t);
};
const css = (c, a = 1) => `rgba(${c[0] | 0},${c[1] | 0},${c[2] | 0},${a})`;
const fmt = (v) => (v === null || v === undefined || !isFinite(v)) ? 'diverged' : v.toFixed(3);

// One map (row 0 at the bottom) as a small offscreen canvas, drawn smoothly when scaled.
function mapCanvas(values, n, colour) {
  const c = document.createElement('canvas'); c.width = n; c.height = n;
  const ctx = c.getContext('2d'), img = ctx.createImageData(n, n);
  for (let r = 0; r < n; r++) for (let k = 0; k < n; k++) {
    const rgb = colour(values[r * n + k], r * n + k), o = ((n - 1 - r) * n + k) * 4;
    img.data[o] = rgb[0]; img.data[o + 1] = rgb[1]; img.data[o + 2] = rgb[2]; img.data[o + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

function outputColour(d) {
  const white = [255, 255, 255];
  if (d.task === 'classification' && d.n_classes > 2) {
    return (v, idx) => (v === null) ? [200, 200, 200] :
      mix(white, CLASS[Math.round(v) % CLASS.length], 0.25 + 0.5 * ((d.confidence || [])[idx] ?? 1));
  }
  return (v) => {
    if (v === null) return [200, 200, 200];
    let t = d.task === 'classification' ? 2 * v - 1 : v;
    if (d.discretize) t = t > 0 ? 1 : -1;
    return mix(white, diverging(t), 0.8);
  };
}

// An output unit's own map: P(class k), from white (0) to the class's colour (1).
const classColour = (k) => (v) => v === null ? [200, 200, 200] : mix([255, 255, 255], CLASS[k % CLASS.length], v);

// The loss chart, from epoch 0: train grey, test black, as in TFP; the numbers on top.
function drawLoss(st) {
  const c = st.data.loss, w = st.outSize + 22, h = 104, ctx = setupCanvas(st.loss, w, h);
  ctx.clearRect(0, 0, w, h);
  if (!c || !c.epoch.length || !c.train) return;
  const top = 22, bottom = h - 16, left = 4, right = w - 40;
  const series = [[c.train, '#888', 'Train loss'], [c.test, '#111', 'Test loss']].filter(s => s[0]);
  let hi = 0; for (const [v] of series) for (const x of v) if (x !== null && isFinite(x)) hi = Math.max(hi, x);
  hi = hi || 1;
  const last = c.epoch[c.epoch.length - 1] || 1;
  const px = (e) => left + (right - left) * e / last, py = (v) => bottom - (bottom - top) * Math.min(v, hi) / hi;
  ctx.strokeStyle = '#ccc'; ctx.lineWidth = 1; ctx.strokeRect(left + 0.5, top + 0.5, right - left, bottom - top);
  for (const [v, colour] of series) {
    ctx.strokeStyle = colour; ctx.lineWidth = 1.5; ctx.beginPath();
    let open = false;
    v.forEach((x, n) => {
      if (x === null || !isFinite(x)) { open = false; return; }
      if (open) ctx.lineTo(px(c.epoch[n]), py(x)); else ctx.moveTo(px(c.epoch[n]), py(x));
      open = true;
    });
    ctx.stroke();
  }
  ctx.font = '12px sans-serif'; ctx.textAlign = 'left';
  let x = left;
  for (const [v, colour, name] of series) {
    const text = `${name} ${fmt(v[v.length - 1])}`;
    ctx.fillStyle = colour; ctx.fillRect(x, 8, 12, 3); ctx.fillStyle = '#333'; ctx.fillText(text, x + 16, 14);
    x += ctx.measureText(text).width + 32;
  }
  ctx.fillStyle = '#666'; ctx.font = '11px sans-serif';
  ctx.fillText(+hi.toPrecision(3), right + 4, top + 8); ctx.fillText('0', right + 4, bottom);
  ctx.fillText('epoch 0', left, h - 3); ctx.textAlign = 'right'; ctx.fillText(`${last.toLocaleString()}`, right, h - 3);
}

function scaled(values) {   // an input feature's map, shown on the same scale as TFP: |max| = 1
  let m = 0; for (const v of values) if (v !== null) m = Math.max(m, Math.abs(v));
  return values.map(v => v === null ? null : v / (m || 1));
}


// The network's geometry: node boxes, bias boxes and sampled edge curves, for drawing and hits.
function layout(d, maxWidth) {
  const sizes = d.sizes, L = sizes.length, tallest = Math.max(...sizes);
  const gap = Math.max(16, Math.min(56, 400 / tallest)), box = Math.round(gap * 0.72);
  const left = 64, right = 20, top = 26;
  const step = Math.min(130, Math.max(70, (maxWidth - left - right - box) / Math.max(1, L - 1)));
  const width = left + right + box + step * (L - 1), height = top + gap * tallest + 8;
  const nodes = sizes.map((n, l) => Array.from({ length: n }, (_, k) => {
    const x = left + step * l, y = top + (tallest - n) * gap / 2 + gap * k + (gap - box) / 2;
    return { l, k, x, y, s: box };
  }));
  const edges = [];
  for (let l = 0; l + 1 < L; l++) {
    const w = d.weights[l];
    for (let j = 0; j < sizes[l + 1]; j++) for (let i = 0; i < sizes[l]; i++) {
      const a = nodes[l][i], b = nodes[l + 1][j];
      const x0 = a.x + a.s, y0 = a.y + a.s / 2, x1 = b.x, y1 = b.y + b.s / 2, xm = (x0 + x1) / 2;
      const pts = [];
      for (let t = 0; t <= 1.0001; t += 0.05) {      // the cubic curve TFP draws between nodes
        const u = 1 - t;
        pts.push([u * u * u * x0 + 3 * u * u * t * xm + 3 * u * t * t * xm + t * t * t * x1,
                  u * u * u * y0 + 3 * u * u * t * y0 + 3 * u * t * t * y1 + t * t * t * y1]);
      }
      edges.push({ layer: l, i, j, w: w[j][i], pts, x0, y0, x1, y1, xm });
    }
  }
  return { nodes, edges, width, height, box, gap };
}

const edgeWidth = (w) => (w === null) ? 1 : 1 + 9 * Math.min(1, Math.abs(w) / 5);

function nodeName(d, l, k) {
  if (l === 0) return d.input_names[k];
  if (l === d.sizes.length - 1) return 'output ' + (d.output_names[k] ?? k + 1);
  return `neuron ${k + 1} of layer ${l}`;
}

function drawNetwork(st) {
  const d = st.data, g = st.geo, ctx = setupCanvas(st.net, g.width, g.height);
  ctx.clearRect(0, 0, g.width, g.height);
  ctx.fillStyle = '#555'; ctx.font = '11px sans-serif'; ctx.textAlign = 'center';
  d.sizes.forEach((n, l) => {
    const label = l === 0 ? 'inputs' : l === d.sizes.length - 1 ? 'output' : `${n} neuron${n > 1 ? 's' : ''}`;
    ctx.fillText(label, g.nodes[l][0].x + g.box / 2, 12);
  });
  const order = [...g.edges].sort((a, b) => Math.abs(a.w ?? 0) - Math.abs(b.w ?? 0));
  for (const e of order) {
    const hot = st.hover && st.hover.kind === 'edge' && st.hover.e === e;
    ctx.strokeStyle = css(diverging(e.w), hot ? 1 : 0.9);
    ctx.lineWidth = edgeWidth(e.w) + (hot ? 2 : 0);
    ctx.beginPath(); ctx.moveTo(e.x0, e.y0);
    ctx.bezierCurveTo(e.xm, e.y0, e.xm, e.y1, e.x1, e.y1); ctx.stroke();
  }
  ctx.imageSmoothingEnabled = true; ctx.imageSmoothingQuality = 'high';
  const last = d.sizes.length - 1, nr = d.node_res;
  g.nodes.forEach((layer, l) => layer.forEach((nd) => {
    let map = null;
    if (l === 0) map = mapCanvas(scaled(d.inputs[nd.k]), nr, diverging);
    else if (l < last) map = mapCanvas(d.neurons[l - 1][nd.k], nr, diverging);
    else if (d.class_maps) map = mapCanvas(d.class_maps[nd.k], nr, classColour(nd.k));
    else map = st.outMap;
    if (map) ctx.drawImage(map, nd.x, nd.y, nd.s, nd.s);
    const hot = st.hover && st.hover.kind !== 'edge' && st.hover.l === l && st.hover.k === nd.k;
    ctx.strokeStyle = hot ? '#000' : '#999'; ctx.lineWidth = hot ? 2 : 1;
    ctx.strokeRect(nd.x + 0.5, nd.y + 0.5, nd.s - 1, nd.s - 1);
    if (l > 0) {                 // the bias: a small square at the node's lower left, as in TFP
      const b = d.biases[l - 1][nd.k], bs = Math.max(5, nd.s / 5);
      nd.bias = { x: nd.x - bs - 2, y: nd.y + nd.s - bs, s: bs };
      ctx.fillStyle = css(diverging(b)); ctx.fillRect(nd.bias.x, nd.bias.y, bs, bs);
      ctx.strokeStyle = '#888'; ctx.lineWidth = 1; ctx.strokeRect(nd.bias.x, nd.bias.y, bs, bs);
    }
  }));
  ctx.fillStyle = '#333'; ctx.textAlign = 'right'; ctx.font = '12px sans-serif';
  g.nodes[0].forEach((nd) => ctx.fillText(d.input_names[nd.k], nd.x - 6, nd.y + nd.s / 2 + 4));
  // Where each edge's middle is, for tests and tools that click an edge.
  st.net.dataset.edges = JSON.stringify(g.edges.map(e => {
    const p = e.pts[6]; return [e.layer, e.i, e.j, Math.round(p[0]), Math.round(p[1])];
  }));
}

function drawOutput(st) {
  const d = st.data, size = st.outSize, pad = 22, ctx = setupCanvas(st.out, size + pad, size + pad);
  ctx.clearRect(0, 0, size + pad, size + pad);
  const h = st.hover, last = d.sizes.length - 1;
  let map = st.outMap, caption;
  if (h && h.kind === 'node' && h.l < last) {        // TFP: a hovered node fills the big map
    map = h.l === 0 ? mapCanvas(scaled(d.inputs[h.k]), d.node_res, diverging)
                    : mapCanvas(d.neurons[h.l - 1][h.k], d.node_res, diverging);
    caption = `Showing ${nodeName(d, h.l, h.k)} over the input plane.`;
  }
  ctx.imageSmoothingEnabled = true; ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(map, 0, 0, size, size);
  const [x0, x1] = d.xlim, [y0, y1] = d.ylim;
  const px = (x) => (x - x0) / (x1 - x0) * size, py = (y) => (y1 - y) / (y1 - y0) * size;
  const dot = (pts, outline) => {
    if (!pts) return;
    for (let n = 0; n < pts.x.length; n++) {
      const v = pts.v[n];
      const fill = d.task === 'classification' ? CLASS[Math.round(v) % CLASS.length] : diverging(v);
      ctx.beginPath(); ctx.arc(px(pts.x[n]), py(pts.y[n]), 3, 0, 2 * Math.PI);
      ctx.fillStyle = css(fill); ctx.fill();
      ctx.strokeStyle = outline; ctx.lineWidth = 1; ctx.stroke();
    }
  };
  dot(d.train, '#fff'); dot(d.test, '#000');
  ctx.strokeStyle = '#999'; ctx.strokeRect(0.5, 0.5, size - 1, size - 1);
  ctx.fillStyle = '#555'; ctx.font = '11px sans-serif';
  for (let t = 0; t <= 4; t++) {
    const xv = x0 + (x1 - x0) * t / 4, yv = y0 + (y1 - y0) * t / 4;
    ctx.textAlign = 'center'; ctx.fillText(+xv.toFixed(1), Math.min(size - 8, Math.max(8, px(xv))), size + 14);
    ctx.textAlign = 'left'; ctx.fillText(+yv.toFixed(1), size + 3, Math.min(size - 2, Math.max(10, py(yv) + 4)));
  }
  if (!caption) {
    caption = d.task === 'regression' ? 'Output over the input plane: orange −1, grey 0, blue +1.'
      : d.n_classes > 2 ? 'Predicted class over the input plane (paler where less sure).'
      : 'Output over the input plane: P(blue), orange 0 to blue 1.';
    caption += d.test ? ' Dots: training data (white edge), test data (black edge).' : ' Dots: training data.';
  }
  st.caption.textContent = caption;
}

function hitNetwork(st, x, y) {
  const g = st.geo;
  for (const layer of g.nodes) for (const nd of layer) {
    if (nd.bias && x >= nd.bias.x - 1 && x <= nd.bias.x + nd.bias.s + 1 && y >= nd.bias.y - 1 && y <= nd.bias.y + nd.bias.s + 1)
      return { kind: 'bias', l: nd.l, k: nd.k, nd };
    if (x >= nd.x && x <= nd.x + nd.s && y >= nd.y && y <= nd.y + nd.s) return { kind: 'node', l: nd.l, k: nd.k, nd };
  }
  let best = null, bestDist = Infinity;
  for (const e of g.edges) {
    const reach = Math.max(4, edgeWidth(e.w) / 2 + 2);
    for (let n = 1; n < e.pts.length; n++) {
      const [ax, ay] = e.pts[n - 1], [bx, by] = e.pts[n], dx = bx - ax, dy = by - ay;
      const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy || 1)));
      const dist = Math.hypot(x - ax - t * dx, y - ay - t * dy);
      if (dist < reach && dist < bestDist) { best = e; bestDist = dist; }
    }
  }
  return best ? { kind: 'edge', e: best } : null;
}

function describe(st, h) {
  const d = st.data;
  if (h.kind === 'edge') {
    const e = h.e;
    return `Weight ${fmt(e.w)}: ${nodeName(d, e.layer, e.i)} → ${nodeName(d, e.layer + 1, e.j)} (click to edit)`;
  }
  if (h.kind === 'bias') return `Bias ${fmt(d.biases[h.l - 1][h.k])} of ${nodeName(d, h.l, h.k)} (click to edit)`;
  if (h.l === 0) return `Input ${d.input_names[h.k]}`;
  return `${nodeName(d, h.l, h.k)[0].toUpperCase()}${nodeName(d, h.l, h.k).slice(1)}: bias ${fmt(d.biases[h.l - 1][h.k])}`;
}

function redraw(st) {
  const d = st.data;
  st.outMap = mapCanvas(d.output, d.res, outputColour(d));
  st.geo = layout(d, Math.max(320, Math.min(640, st.root.clientWidth - st.outSize - 60)));
  if (st.hover && st.hover.kind === 'edge') {         // keep hovering the same edge
    const e = st.hover.e;
    const same = st.geo.edges.find(f => f.layer === e.layer && f.i === e.i && f.j === e.j);
    st.hover = same ? { kind: 'edge', e: same } : null;
  }
  drawNetwork(st); drawOutput(st); drawLoss(st);
  if (st.hover && !st.tip.hidden) st.tip.textContent = describe(st, st.hover);
  st.root.dataset.epoch = d.epoch;
  st.root.dataset.draws = (+(st.root.dataset.draws || 0) + 1);
}

function showTip(st, text, x, y) {
  st.tip.textContent = text; st.tip.hidden = false;
  st.tip.style.left = (x + 14) + 'px'; st.tip.style.top = (y + 12) + 'px';
}

function openEditor(st, target, x, y) {
  const d = st.data, ed = st.editor, input = ed.querySelector('input');
  st.editing = target;
  const old = target.bias ? d.biases[target.layer][target.j] : d.weights[target.layer][target.j][target.i];
  ed.querySelector('label').textContent = target.bias ? 'Bias' : 'Weight';
  input.value = old === null ? '' : old;
  ed.hidden = false; ed.style.left = x + 'px'; ed.style.top = y + 'px';
  st.tip.hidden = true;
  input.focus(); input.select();
}

// The payload arrives as UTF-8 JSON bytes (one encoding on the server, see playground_view).
function decode(raw) {
  if (raw instanceof ArrayBuffer) raw = new Uint8Array(raw);
  return ArrayBuffer.isView(raw) ? JSON.parse(new TextDecoder().decode(raw)) : raw;
}

export default function (component) {
  const { setStateValue, parentElement } = component, data = decode(component.data);
  const root = parentElement.querySelector('.pgv');
  if (!root.__pgv) {
    const st = { root, net: root.querySelector('.pgv-net-canvas'), out: root.querySelector('.pgv-out-canvas'),
                 loss: root.querySelector('.pgv-loss-canvas'),
                 caption: root.querySelector('.pgv-caption'), tip: root.querySelector('.pgv-tip'),
                 editor: root.querySelector('.pgv-edit'), outSize: 380, hover: null, editing: null };
    root.__pgv = st;
    const local = (ev, el) => { const r = el.getBoundingClientRect(), o = root.getBoundingClientRect();
      return [ev.clientX - r.left, ev.clientY - r.top, ev.clientX - o.left, ev.clientY - o.top]; };
    st.net.addEventListener('mousemove', (ev) => {
      const [x, y, rx, ry] = local(ev, st.net), h = hitNetwork(st, x, y);
      st.hover = h; st.net.style.cursor = h && h.kind !== 'node' ? 'pointer' : 'default';
      if (h) showTip(st, describe(st, h), rx, ry); else st.tip.hidden = true;
      drawNetwork(st); drawOutput(st);
    });
    st.net.addEventListener('mouseleave', () => { st.hover = null; st.tip.hidden = true; drawNetwork(st); drawOutput(st); });
    st.net.addEventListener('click', (ev) => {
      const [x, y, rx, ry] = local(ev, st.net), h = hitNetwork(st, x, y);
      if (h && h.kind === 'edge') openEditor(st, { layer: h.e.layer, i: h.e.i, j: h.e.j, bias: false }, rx, ry);
      else if (h && h.kind === 'bias') openEditor(st, { layer: h.l - 1, i: 0, j: h.k, bias: true }, rx, ry);
    });
    st.out.addEventListener('mousemove', (ev) => {
      const d = st.data, [x, y, rx, ry] = local(ev, st.out), s = st.outSize;
      if (x > s || y > s) { st.tip.hidden = true; return; }
      const col = Math.round(x / s * (d.res - 1)), row = Math.round((1 - y / s) * (d.res - 1));
      const v = d.output[row * d.res + col];
      const px = d.xlim[0] + (d.xlim[1] - d.xlim[0]) * x / s, py = d.ylim[1] - (d.ylim[1] - d.ylim[0]) * y / s;
      const what = d.task === 'regression' ? `output ${fmt(v)}` : d.n_classes > 2
        ? `class ${d.output_names[Math.round(v)] ?? v} (p ${fmt((d.confidence || [])[row * d.res + col])})` : `P(blue) ${fmt(v)}`;
      showTip(st, `X₁ ${px.toFixed(2)}, X₂ ${py.toFixed(2)}: ${what}`, rx, ry);
    });
    st.out.addEventListener('mouseleave', () => { st.tip.hidden = true; });
    const input = st.editor.querySelector('input');
    const close = () => { st.editor.hidden = true; st.editing = null; };
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') close();
      if (ev.key !== 'Enter') return;
      const value = parseFloat(input.value), t = st.editing;
      if (t && isFinite(value)) {
        st.setStateValue('edit', { layer: t.layer, i: t.i, j: t.j, value, bias: t.bias, n: Date.now() });
      }
      close();
    });
    input.addEventListener('blur', close);
  }
  const st = root.__pgv;
  st.setStateValue = setStateValue;
  st.data = data;
  redraw(st);
}
"""

_view = st.components.v2.component("nnplay_playground_view", html=HTML, css=CSS, js=JS)


def playground_view(payload: dict, key: str, on_edit: Callable[[], None]) -> dict | None:
    """Draw the payload (see view_payload); ``on_edit`` runs (before the next run draws) when
    the learner typed a new weight or bias. Returns the last edit reported, or None."""
    # As JSON bytes: Streamlit sends bytes as they are (and hashes them), where a dict would be
    # scanned for dataframes and JSON-encoded twice on every refresh.
    raw = json.dumps(payload, separators=(",", ":")).encode()
    result = _view(key=key, data=raw, default={"edit": None}, on_edit_change=on_edit,
                   width="stretch")
    return (result or {}).get("edit")


def edit_in_state(key: str) -> dict | None:
    """The edit the view with this key last reported (for the on_edit callback)."""
    state = st.session_state.get(key) or {}
    return state.get("edit") if hasattr(state, "get") else None
