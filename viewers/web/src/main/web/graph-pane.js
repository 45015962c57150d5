// Pane A: the whole (pruned) graph on a canvas, nodes by position (x) and layer (y). Canvas rather than SVG so that
// thousands of nodes and links redraw within a frame; d3 supplies the zoom, the quadtree for hit testing and colours.

import { state, update, togglePin } from './store.js';
import { displayLabel, linkColor, linkWidth } from './model.js';

const d3 = window.d3;
const MARGIN = { left: 46, right: 12, top: 54, bottom: 72 };
const PIN = '#e8731a';
const HOVER = '#d01c8b';
const CROWD_SPACING = 6.5;   // px between node centres below which a cell wraps into more lines
const TEMPLATE_ALPHA = 0.35; // opacity of the prompt tokens a chat template wrote
const LABEL_DROP = 8;        // px from the bottom axis to where a token label ends
export const TEMPLATE_TOOLTIP = 'written by the chat template';

export function createGraphPane(root) {
  const body = root.querySelector('.pane-body');
  const canvas = document.createElement('canvas');
  canvas.className = 'graph-canvas';
  canvas.tabIndex = 0;
  canvas.setAttribute('aria-label', 'Attribution graph');
  const tooltip = document.createElement('div');
  tooltip.className = 'tooltip';
  tooltip.hidden = true;
  body.append(canvas, tooltip);

  let layout = null;           // { width, height, points: Map(id -> {x, y, r}), tree, rowY, colX }
  let transform = d3.zoomIdentity;
  let frame = 0;
  let metaDown = false;
  const pane = { lastRenderMs: 0, lastLayoutMs: 0 };

  const zoom = d3.zoom().scaleExtent([0.5, 20]).filter((e) => (!e.ctrlKey || e.type === 'wheel') && !e.button)
    .on('zoom', (e) => { transform = e.transform; hideTooltip(); requestDraw(); });
  d3.select(canvas).call(zoom).on('dblclick.zoom', null);

  function size() {
    const r = body.getBoundingClientRect();
    return { width: Math.max(200, Math.floor(r.width)), height: Math.max(160, Math.floor(r.height)) };
  }

  function computeLayout() {
    const t0 = performance.now();
    const m = state.model;
    const { width, height } = size();
    const dpr = window.devicePixelRatio || 1;
    canvas.width = width * dpr;
    canvas.height = height * dpr;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    if (!m) { layout = null; return; }
    const cells = new Map();
    for (const n of m.nodes) {
      const key = `${n.pos}:${n.row}`;
      if (!cells.has(key)) cells.set(key, []);
      cells.get(key).push(n);
    }
    const positions = [...new Set(m.nodes.map((n) => n.pos))].sort((a, b) => a - b);
    const units = new Map(positions.map((p) => [p, 1]));
    for (const [key, list] of cells) {
      const p = Number(key.split(':')[0]);
      units.set(p, Math.max(units.get(p), list.length));
    }
    const plotW = width - MARGIN.left - MARGIN.right;
    const plotH = height - MARGIN.top - MARGIN.bottom;
    // columns get sqrt-compressed widths so one crowded position does not squeeze the rest to nothing
    const weight = (p) => Math.sqrt(units.get(p)) + 0.6;
    const total = positions.reduce((s, p) => s + weight(p), 0);
    const colX = new Map();
    let x = MARGIN.left;
    for (const p of positions) {
      const w = (plotW * weight(p)) / total;
      colX.set(p, { x0: x, w });
      x += w;
    }
    const rowH = plotH / m.rows;
    const rowY = (row) => MARGIN.top + (m.rows - 1 - row + 0.5) * rowH;
    const points = new Map();
    let minSpacing = Infinity;
    // a crowded cell wraps into several lines within its layer's band (most influential at the left), so that its
    // nodes stay apart instead of merging into one solid line of circles
    const band = rowH * 0.8;
    const maxLines = Math.max(1, Math.floor(band / CROWD_SPACING));
    for (const [key, list] of cells) {
      const [p, row] = key.split(':').map(Number);
      const col = colX.get(p);
      list.sort((a, b) => (a.kind === 'logit' ? b.tokenProb - a.tokenProb : (a.influence ?? 2) - (b.influence ?? 2)));
      const perLineFit = Math.max(1, Math.floor(col.w / CROWD_SPACING));
      const lines = list.length <= perLineFit || list[0].kind === 'logit' ? 1
        : Math.min(maxLines, Math.ceil(list.length / perLineFit));
      const perLine = Math.ceil(list.length / lines);
      const step = col.w / perLine;
      const stepY = lines > 1 ? band / lines : 0;
      minSpacing = Math.min(minSpacing, lines > 1 ? Math.min(step, stepY) : step);
      const y0 = rowY(row) - ((lines - 1) * stepY) / 2;
      // column-major: node i sits in column floor(i / lines), so influence still decreases left to right
      list.forEach((n, i) => points.set(n.id, {
        x: col.x0 + (Math.floor(i / lines) + 0.5) * step, y: y0 + (i % lines) * stepY, n }));
    }
    const r = Math.max(1.8, Math.min(5.5, minSpacing * 0.42, rowH * 0.3));
    for (const pt of points.values()) pt.r = pt.n.kind === 'feature' ? r : r * 1.05;
    const tree = d3.quadtree([...points.values()], (d) => d.x, (d) => d.y);
    layout = { width, height, points, tree, rowY, colX, positions, rowH, r };
    pane.lastLayoutMs = performance.now() - t0;
  }

  function requestDraw() {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(); });
  }

  function emphasisedLinks(m) {
    const out = [];
    const clicked = state.clickedId && m.byId.get(state.clickedId);
    if (clicked) return clicked.inputs.concat(clicked.outputs);
    const pinned = new Set(state.pinnedIds);
    if (!pinned.size) return out;
    for (const l of m.links) {
      const s = pinned.has(l.source.id);
      const t = pinned.has(l.target.id);
      const keep = state.linkType === 'both' ? s && t : state.linkType === 'input' ? t
        : state.linkType === 'output' ? s : s || t;
      if (keep) out.push(l);
    }
    return out;
  }

  function draw() {
    const t0 = performance.now();
    const ctx = canvas.getContext('2d');
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const m = state.model;
    if (!layout || !m) return;
    ctx.setTransform(dpr * transform.k, 0, 0, dpr * transform.k, dpr * transform.x, dpr * transform.y);
    drawAxes(ctx, m);
    const pts = layout.points;
    const strong = emphasisedLinks(m);
    const strongSet = new Set(strong);
    if (state.showAllLinks) {
      ctx.globalAlpha = strong.length ? 0.12 : 0.3;
      for (const l of m.links) {
        if (!strongSet.has(l)) drawLink(ctx, pts, l, 0.6);
      }
      ctx.globalAlpha = 1;
    }
    for (const l of strong) drawLink(ctx, pts, l, 1, true);
    const sel = state.selectedLink;
    const picked = sel && m.links.find((l) => l.source.id === sel.source && l.target.id === sel.target);
    if (picked) drawLink(ctx, pts, picked, 2.2, true); // the link whose head loadings are shown

    const clicked = state.clickedId;
    const neighbour = new Map();
    if (clicked && m.byId.get(clicked)) {
      const c = m.byId.get(clicked);
      for (const l of c.inputs) neighbour.set(l.source.id, linkColor(l.pct));
      for (const l of c.outputs) neighbour.set(l.target.id, linkColor(l.pct));
    }
    const pinned = new Set(state.pinnedIds);
    for (const pt of pts.values()) {
      const n = pt.n;
      if (state.searchHits.has(n.id)) {
        ctx.beginPath();
        ctx.arc(pt.x, pt.y, pt.r + 4, 0, 2 * Math.PI);
        ctx.fillStyle = 'rgba(255, 214, 0, 0.75)';
        ctx.fill();
      }
      glyph(ctx, n.kind, pt.x, pt.y, pt.r);
      ctx.fillStyle = n.id === clicked ? '#111' : neighbour.get(n.id) || '#fff';
      ctx.fill();
      ctx.lineWidth = pinned.has(n.id) ? 2.2 : 0.8;
      ctx.strokeStyle = pinned.has(n.id) ? PIN : '#333';
      ctx.stroke();
    }
    const hovered = state.hoveredId && pts.get(state.hoveredId);
    if (hovered) {
      ctx.setLineDash([3, 2]);
      ctx.beginPath();
      ctx.arc(hovered.x, hovered.y, hovered.r + 4, 0, 2 * Math.PI);
      ctx.strokeStyle = HOVER;
      ctx.lineWidth = 1.5;
      ctx.stroke();
      ctx.setLineDash([]);
    }
    pane.lastRenderMs = performance.now() - t0;
  }

  function drawLink(ctx, pts, l, scale, halo) {
    const a = pts.get(l.source.id);
    const b = pts.get(l.target.id);
    if (!a || !b) return;
    const w = linkWidth(l.pct) * scale;
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    // a gentle curve keeps links of the same column apart
    const mx = (a.x + b.x) / 2 + (a.x === b.x ? 12 : 0);
    ctx.quadraticCurveTo(mx, (a.y + b.y) / 2, b.x, b.y);
    if (halo) {
      ctx.strokeStyle = 'rgba(0,0,0,0.55)';
      ctx.lineWidth = w + 1.2;
      ctx.stroke();
    }
    ctx.strokeStyle = linkColor(l.pct);
    ctx.lineWidth = w;
    ctx.stroke();
  }

  function glyph(ctx, kind, x, y, r) {
    ctx.beginPath();
    if (kind === 'feature') {
      ctx.arc(x, y, r, 0, 2 * Math.PI);
    } else if (kind === 'error') {
      ctx.moveTo(x, y - r * 1.3); ctx.lineTo(x + r * 1.3, y); ctx.lineTo(x, y + r * 1.3); ctx.lineTo(x - r * 1.3, y);
      ctx.closePath();
    } else {
      ctx.rect(x - r, y - r, 2 * r, 2 * r);
    }
  }

  function drawAxes(ctx, m) {
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#667';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let row = 0; row < m.rows; row++) {
      const y = layout.rowY(row);
      ctx.strokeStyle = row % 2 ? 'rgba(0,0,0,0.035)' : 'rgba(0,0,0,0)';
      ctx.lineWidth = layout.rowH;
      ctx.beginPath(); ctx.moveTo(MARGIN.left, y); ctx.lineTo(layout.width - MARGIN.right, y); ctx.stroke();
      const name = row === 0 ? 'Emb' : row === m.rows - 1 ? 'Lgt' : `L${row - 1}`;
      if (row === 0 || row === m.rows - 1 || m.rows < 16 || row % 2 === 1) ctx.fillText(name, MARGIN.left - 6, y);
    }
    ctx.strokeStyle = 'rgba(0,0,0,0.08)';
    ctx.lineWidth = 1;
    for (const p of layout.positions) {
      const col = layout.colX.get(p);
      ctx.beginPath(); ctx.moveTo(col.x0, MARGIN.top); ctx.lineTo(col.x0, layout.height - MARGIN.bottom); ctx.stroke();
      const tok = m.tokens[p] ?? '';
      ctx.save();
      ctx.translate(col.x0 + col.w / 2, layout.height - MARGIN.bottom + LABEL_DROP);
      ctx.rotate(-Math.PI / 4);
      ctx.textAlign = 'right';
      ctx.fillStyle = '#334';
      if (m.templatePositions.has(p)) ctx.globalAlpha = TEMPLATE_ALPHA;
      ctx.fillText(tok.length > 14 ? `${tok.slice(0, 13)}…` : tok, 0, 0);
      ctx.restore();
    }
    // logit tokens above their squares, slanted so that neighbours do not overwrite each other
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#223';
    for (const pt of layout.points.values()) {
      if (pt.n.kind !== 'logit' || !pt.n.token) continue;
      ctx.save();
      ctx.translate(pt.x, pt.y - pt.r - 3);
      ctx.rotate(-Math.PI / 3);
      ctx.fillText(pt.n.token.length > 12 ? `${pt.n.token.slice(0, 11)}…` : pt.n.token, 0, 0);
      ctx.restore();
    }
  }

  function find(event) {
    if (!layout) return null;
    const rect = canvas.getBoundingClientRect();
    const [x, y] = transform.invert([event.clientX - rect.left, event.clientY - rect.top]);
    const hit = layout.tree.find(x, y, 30 / transform.k);
    return hit ? hit.n : null;
  }

  /** The position whose token label lies under the pointer when a chat template wrote it, else null. */
  function templateTokenAt(event) {
    const m = state.model;
    if (!layout || !m || !m.templatePositions.size) return null;
    const rect = canvas.getBoundingClientRect();
    const [x, y] = transform.invert([event.clientX - rect.left, event.clientY - rect.top]);
    const depth = y - (layout.height - MARGIN.bottom);
    if (depth < 0) return null;
    // the labels slant down-left at 45° from below their column's centre: undo the slant, then find the column
    const u = x + depth - LABEL_DROP;
    const p = layout.positions.find((q) => {
      const col = layout.colX.get(q);
      return u >= col.x0 && u < col.x0 + col.w;
    });
    return p !== undefined && m.templatePositions.has(p) ? p : null;
  }

  function showTemplateTooltip(p, event) {
    tooltip.hidden = false;
    tooltip.textContent = '';
    const title = document.createElement('div');
    title.className = 'tt-title';
    title.textContent = `“${state.model.tokens[p] ?? ''}”`;
    const sub = document.createElement('div');
    sub.className = 'tt-sub';
    sub.textContent = `position ${p} · ${TEMPLATE_TOOLTIP}`;
    tooltip.append(title, sub);
    placeTooltip(event.clientX, event.clientY);
  }

  function showTooltip(n, event) {
    tooltip.hidden = false;
    tooltip.textContent = '';
    const title = document.createElement('div');
    title.className = 'tt-title';
    title.textContent = displayLabel(n);
    const sub = document.createElement('div');
    sub.className = 'tt-sub';
    sub.textContent = `${n.id} · ${n.raw.feature_type}`;
    tooltip.append(title, sub);
    if (metaDown) {
      for (const [k, v] of Object.entries(n.raw)) {
        if (v === null || typeof v !== 'object') {
          const row = document.createElement('div');
          row.className = 'tt-field';
          row.textContent = `${k}: ${v}`;
          tooltip.append(row);
        }
      }
    }
    placeTooltip(event.clientX, event.clientY);
  }

  /**
   * Fixed on the viewport (the pane clips what overflows it): below right of the pointer, flipped above or to the
   * left where it would leave the window, and clamped inside it when even that does not fit (Alt lists every field).
   */
  function placeTooltip(cx, cy) {
    const vw = document.documentElement.clientWidth;
    const vh = document.documentElement.clientHeight;
    tooltip.style.maxHeight = `${vh - 8}px`;
    const w = tooltip.offsetWidth;
    const h = tooltip.offsetHeight;
    let x = cx + 14;
    if (x + w > vw - 4) x = cx - 14 - w;
    let y = cy + 14;
    if (y + h > vh - 4) y = cy - 14 - h;
    tooltip.style.left = `${Math.max(4, Math.min(x, vw - 4 - w))}px`;
    tooltip.style.top = `${Math.max(4, Math.min(y, vh - 4 - h))}px`;
  }

  function hideTooltip() { tooltip.hidden = true; }

  canvas.addEventListener('mousemove', (e) => {
    metaDown = e.metaKey || e.altKey;
    const n = find(e);
    if ((n && n.id) !== state.hoveredId) update({ hoveredId: n ? n.id : null }, 'hover');
    const templateToken = n ? null : templateTokenAt(e);
    if (n) showTooltip(n, e); else if (templateToken !== null) showTemplateTooltip(templateToken, e); else hideTooltip();
  });
  canvas.addEventListener('mouseleave', () => { hideTooltip(); if (state.hoveredId) update({ hoveredId: null }, 'hover'); });
  canvas.addEventListener('click', (e) => {
    const n = find(e);
    if (e.ctrlKey || e.metaKey) {
      if (n) togglePin(n.id);
      return;
    }
    update({ clickedId: n && n.id !== state.clickedId ? n.id : null }, 'select');
  });

  new ResizeObserver(() => { computeLayout(); requestDraw(); }).observe(body);

  pane.render = () => { computeLayout(); draw(); };
  pane.redraw = requestDraw;
  pane.resetZoom = () => d3.select(canvas).call(zoom.transform, d3.zoomIdentity);
  /** A point on position p's token label, in CSS pixels relative to the canvas (for the browser tests). */
  pane.tokenScreenPosition = (p) => {
    const col = layout && layout.colX.get(p);
    if (!col) return null;
    const [x, y] = transform.apply([col.x0 + col.w / 2 - 6, layout.height - MARGIN.bottom + LABEL_DROP + 6]);
    return { x, y };
  };
  /** Where a node is drawn, in CSS pixels relative to the canvas (used by the browser tests and keyboard focus). */
  pane.nodeScreenPosition = (id) => {
    const pt = layout && layout.points.get(id);
    if (!pt) return null;
    const [x, y] = transform.apply([pt.x, pt.y]);
    return { x, y };
  };
  pane.canvas = canvas;
  pane.tooltip = tooltip;
  /** The radius features are drawn with (CSS pixels before zoom). */
  pane.nodeRadius = () => (layout ? layout.r : null);
  return pane;
}
