// Pane D: pinned nodes as boxes laid out by position and layer, grouped into labelled supernodes, with the weights
// between boxes. Boxes are HTML (text, editing) over an SVG layer for the links; d3 drives dragging and paths.

import { state, update, togglePin } from './store.js';
import { displayLabel, featureName, linkColor, ownLabel, GLYPH, layerName } from './model.js';
import { el, clear, fmt } from './dom.js';

const d3 = window.d3;

/** The boxes: one per supernode (with at least one member in the graph), one per other pinned node. */
export function subgraphBoxes() {
  const m = state.model;
  if (!m) return [];
  const boxes = [];
  const grouped = new Set();
  state.supernodes.forEach((g, gi) => {
    const members = g.slice(1).filter((id) => m.byId.has(id));
    members.forEach((id) => grouped.add(id));
    if (members.length) boxes.push({ key: `supernode:${g[0]}:${gi}`, layoutKey: `supernode:${g[0]}`, group: gi, label: g[0], members });
  });
  for (const id of state.pinnedIds) {
    if (!grouped.has(id) && m.byId.has(id)) boxes.push({ key: id, layoutKey: id, group: -1, label: null, members: [id] });
  }
  return boxes;
}

/**
 * Weights between boxes: each link into a member counts as its share of that member's input from outside its own
 * box, weighted by the member's share of the box's outside input; links inside a box are dropped.
 */
export function boxLinks(boxes) {
  const m = state.model;
  const boxOf = new Map();
  boxes.forEach((b) => b.members.forEach((id) => boxOf.set(id, b)));
  const external = new Map();
  for (const b of boxes) {
    for (const id of b.members) {
      const n = m.byId.get(id);
      external.set(id, n.inputs.filter((l) => boxOf.get(l.source.id) !== b).reduce((s, l) => s + Math.abs(l.weight), 0));
    }
  }
  const sums = new Map();
  for (const b of boxes) {
    const total = b.members.reduce((s, id) => s + external.get(id), 0);
    for (const id of b.members) {
      const ext = external.get(id);
      if (!ext) continue;
      const share = total > 0 ? ext / total : 1 / b.members.length;
      for (const l of m.byId.get(id).inputs) {
        const src = boxOf.get(l.source.id);
        if (!src || src === b) continue;
        const key = `${src.key}\u0000${b.key}`;
        sums.set(key, (sums.get(key) || 0) + (l.weight / ext) * share);
      }
    }
  }
  return [...sums].map(([key, value]) => {
    const [s, t] = key.split('\u0000');
    return { source: s, target: t, value };
  });
}

// Box geometry (px). Boxes are laid out per token column, stacked by layer, and never drawn on top of each other.
const BOX_H = 44;
const MAX_W = 136;
const MIN_W = 92;
const GAP_X = 12;
const GAP_Y = 8;
const PAD = 8;

const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/**
 * The automatic layout: one column per token position that has boxes (left to right), boxes in a column stacked
 * by layer (logits on top, embeddings at the bottom) and pushed apart vertically so none overlaps another. Returns
 * the box width and each box's top-left corner in px.
 */
export function autoLayout(boxes, m, width, height) {
  const colOf = new Map();
  const rowOf = new Map();
  for (const b of boxes) {
    const nodes = b.members.map((id) => m.byId.get(id));
    colOf.set(b.key, Math.round(d3.mean(nodes, (n) => n.pos)));
    rowOf.set(b.key, d3.mean(nodes, (n) => n.row));
  }
  // a token with more boxes than the pane's height holds gets several adjacent columns (top layers first)
  const capacity = Math.max(1, Math.floor((height - 2 * PAD + GAP_Y) / (BOX_H + GAP_Y)));
  const columns = [];
  for (const c of [...new Set(colOf.values())].sort((a, b) => a - b)) {
    const column = boxes.filter((b) => colOf.get(b.key) === c)
      .sort((a, b) => rowOf.get(b.key) - rowOf.get(a.key) || (a.key < b.key ? -1 : 1));
    const per = Math.ceil(column.length / Math.ceil(column.length / capacity));
    for (let i = 0; i < column.length; i += per) columns.push(column.slice(i, i + per));
  }
  const n = columns.length;
  const boxW = Math.max(MIN_W, Math.min(MAX_W, Math.floor((width - 2 * PAD) / Math.max(1, n)) - GAP_X));
  const step = n > 1 ? Math.max(boxW + GAP_X, Math.min(3 * boxW, (width - 2 * PAD - boxW) / (n - 1))) : 0;
  const x0 = n > 1 ? Math.max(PAD, (width - boxW - (n - 1) * step) / 2) : Math.max(PAD, (width - boxW) / 2);
  const usable = Math.max(BOX_H, height - 2 * PAD - BOX_H);
  const maxRow = Math.max(1, m.rows - 1);
  const out = new Map();
  columns.forEach((column, ci) => {
    const ys = column.map((b) => PAD + (1 - rowOf.get(b.key) / maxRow) * usable);
    for (let i = 1; i < ys.length; i++) ys[i] = Math.max(ys[i], ys[i - 1] + BOX_H + GAP_Y);
    const bottom = height - PAD - BOX_H;
    if (ys.length && ys[ys.length - 1] > bottom) {
      ys[ys.length - 1] = bottom;
      for (let i = ys.length - 2; i >= 0; i--) ys[i] = Math.min(ys[i], ys[i + 1] - BOX_H - GAP_Y);
      if (ys[0] < PAD) { // a pane too low for even one box per row: start at the top and let the pane scroll
        ys[0] = PAD;
        for (let i = 1; i < ys.length; i++) ys[i] = ys[i - 1] + BOX_H + GAP_Y;
      }
    }
    column.forEach((b, i) => out.set(b.key, { x: x0 + ci * step, y: ys[i] }));
  });
  return { boxW, positions: out };
}

/**
 * Grid snap: every box moves to the nearest cell of a grid of box-sized cells; the priority box keeps its cell and
 * a box that lands on a taken cell is pushed down its column to the next free one (as the reference's gridsnap
 * pushes panes down), so snapped boxes never overlap.
 */
export function snapToGrid(rects, boxW, priorityKey) {
  const cellW = boxW + GAP_X;
  const cellH = BOX_H + GAP_Y;
  const taken = new Set();
  const order = [...rects.keys()].sort((a, b) => (a === priorityKey ? -1 : b === priorityKey ? 1
    : rects.get(a).y - rects.get(b).y || rects.get(a).x - rects.get(b).x));
  for (const key of order) {
    const r = rects.get(key);
    const col = Math.max(0, Math.round((r.x - PAD) / cellW));
    let row = Math.max(0, Math.round((r.y - PAD) / cellH));
    while (taken.has(`${col}:${row}`)) row++;
    taken.add(`${col}:${row}`);
    r.x = PAD + col * cellW;
    r.y = PAD + row * cellH;
  }
}

/**
 * Places each weight label ({x, y, w, h}, centred on x, y) near its wanted spot where it overlaps no label placed
 * before it, preferring spots clear of the boxes (`obstacles`), which are drawn over the links and would hide it.
 */
export function separateLabels(items, obstacles = []) {
  const placed = [];
  const rect = (it, dx, dy) => ({ x: it.x + dx - it.w / 2, y: it.y + dy - it.h / 2, w: it.w, h: it.h });
  const free = (r, avoidBoxes) => !placed.some((p) => overlaps(p, r)) && !(avoidBoxes && obstacles.some((o) => overlaps(o, r)));
  for (const it of [...items].sort((a, b) => a.y - b.y || a.x - b.x)) {
    const candidates = [];
    for (let k = 0; k < 40; k++) {
      const dy = (k % 2 ? 1 : -1) * Math.ceil(k / 2) * (it.h / 2 + 1);
      candidates.push([0, dy]);
      // beside the box in the way, to its right or left
      const hit = obstacles.find((o) => overlaps(o, rect(it, 0, dy)));
      if (hit) {
        candidates.push([hit.x + hit.w + 3 + it.w / 2 - it.x, dy], [hit.x - 3 - it.w / 2 - it.x, dy]);
      }
    }
    const best = candidates.find(([dx, dy]) => free(rect(it, dx, dy), true))
      || candidates.find(([dx, dy]) => free(rect(it, dx, dy), false));
    let [dx, dy] = best || [0, 0];
    while (!best && !free(rect(it, dx, dy), false)) dy += it.h + 1; // far away from everything: always ends
    placed.push(rect(it, dx, dy));
    it.x += dx;
    it.y += dy;
  }
  return items;
}

export function createSubgraphPane(root, { onGroupCreated }) {
  const body = root.querySelector('.pane-body');
  const svg = d3.select(body).append('svg').attr('class', 'sg-links');
  const layer = el('div', { class: 'sg-boxes' });
  body.append(layer);

  /**
   * Redraws; a supernode label being edited survives the redraw (a resize or a late view would otherwise drop the
   * text typed so far and commit the old label).
   */
  function render() {
    const editing = layer.querySelector('.sg-edit:not([data-dropped])');
    const pending = editing ? { gi: Number(editing.dataset.gi), value: editing.value, focused: document.activeElement === editing } : null;
    if (editing) editing.dataset.dropped = 'true'; // its blur on removal must not save
    renderBoxes();
    if (!pending || !state.supernodes[pending.gi]) return;
    const key = `supernode:${state.supernodes[pending.gi][0]}:${pending.gi}`;
    const div = layer.querySelector(`.sg-box[data-key="${CSS.escape(key)}"]`);
    if (div) editGroupLabel(pending.gi, div, pending.value, pending.focused);
  }

  function renderBoxes() {
    const m = state.model;
    // the room inside the scroll bars; content that needs more makes the pane scroll
    const width = body.clientWidth;
    const height = body.clientHeight;
    clear(layer);
    svg.selectAll('*').remove();
    svg.attr('width', width).attr('height', height);
    layer.style.width = `${width}px`;
    layer.style.height = `${height}px`;
    const boxes = m ? subgraphBoxes() : [];
    if (!boxes.length) {
      layer.append(el('p', { class: 'hint', text: 'Ctrl/⌘-click nodes to pin them here. Shift-click (or hold G and '
        + 'click) boxes, then press G or “Group” to make a supernode; click its label to rename it.' }));
      return;
    }
    const { boxW, positions } = autoLayout(boxes, m, width, height);
    // saved positions are box centres in units of the pane's size; boxes without one take the automatic place,
    // moved down their column when a saved box sits there
    const rects = new Map();
    const saved = [];
    for (const b of boxes) {
      const p = state.sgLayout[b.layoutKey];
      if (Array.isArray(p) && p.length === 2 && p.every(Number.isFinite)) {
        rects.set(b.key, { x: Math.max(0, p[0] * width - boxW / 2), y: Math.max(0, p[1] * height - BOX_H / 2), w: boxW, h: BOX_H });
        saved.push(rects.get(b.key));
      }
    }
    for (const b of boxes) {
      if (rects.has(b.key)) continue;
      const r = { ...positions.get(b.key), w: boxW, h: BOX_H };
      while (saved.some((s) => overlaps(s, r))) r.y += BOX_H + GAP_Y;
      rects.set(b.key, r);
      saved.push(r);
    }
    if (state.sgSnap) snapToGrid(rects, boxW, null);
    const size = () => {
      let w = width;
      let h = height;
      for (const r of rects.values()) { w = Math.max(w, r.x + r.w + PAD); h = Math.max(h, r.y + r.h + PAD); }
      svg.attr('width', w).attr('height', h);
      layer.style.width = `${w}px`;
      layer.style.height = `${h}px`;
    };
    size();
    const centre = (key) => { const r = rects.get(key); return [r.x + r.w / 2, r.y + r.h / 2]; };

    const links = boxLinks(boxes);
    const byKey = new Map(boxes.map((b) => [b.key, b]));
    const paths = svg.selectAll('path').data(links).join('path')
      .attr('fill', 'none')
      .attr('stroke', (l) => linkColor(l.value))
      .attr('stroke-width', (l) => Math.max(0.8, Math.min(10, 15 * Math.abs(l.value))))
      .attr('stroke-opacity', 0.85);
    paths.append('title').text((l) => `${boxName(byKey.get(l.source))} → ${boxName(byKey.get(l.target))}: ${fmt(l.value, 3)}`);
    const labels = svg.selectAll('text.sg-weight').data(links.filter((l) => Math.abs(l.value) >= 0.05)).join('text')
      .attr('class', 'sg-weight').attr('text-anchor', 'middle').attr('dominant-baseline', 'central')
      .text((l) => fmt(l.value, 2));
    labels.append('title').text((l) => `${boxName(byKey.get(l.source))} → ${boxName(byKey.get(l.target))}: ${fmt(l.value, 3)}`);
    const drawLinks = () => {
      paths.attr('d', (l) => {
        const a = centre(l.source);
        const b = centre(l.target);
        return `M${a[0]},${a[1]} C${a[0]},${(a[1] + b[1]) / 2} ${b[0]},${(a[1] + b[1]) / 2} ${b[0]},${b[1]}`;
      });
      // each weight sits at its curve's middle, moved along y until no other weight label covers it
      const items = [];
      labels.each(function (l) {
        const a = centre(l.source);
        const b = centre(l.target);
        const box = this.getBBox();
        items.push({ node: this, x: (a[0] + b[0]) / 2, y: (a[1] + b[1]) / 2, w: Math.max(box.width, 20) + 4, h: Math.max(box.height, 10) + 2 });
      });
      separateLabels(items, [...rects.values()]);
      for (const it of items) d3.select(it.node).attr('x', it.x).attr('y', it.y);
    };

    for (const b of boxes) {
      const div = boxElement(b);
      div.style.width = `${boxW}px`;
      const place = () => { const r = rects.get(b.key); div.style.left = `${r.x}px`; div.style.top = `${r.y}px`; };
      place();
      d3.select(div).call(d3.drag().filter((e) => !e.target.closest('input,button') && !e.ctrlKey && !e.button)
        .on('drag', (e) => {
          const r = rects.get(b.key);
          r.x = Math.max(0, r.x + e.dx);
          r.y = Math.max(0, r.y + e.dy);
          place();
          drawLinks();
        })
        .on('end', (e) => {
          if (!moved(e)) return;
          const toFraction = (r) => [(r.x + r.w / 2) / width, (r.y + r.h / 2) / height];
          const sgLayout = { ...state.sgLayout };
          if (state.sgSnap) {
            // the dropped box takes its cell, the boxes it displaced move down; all keep their snapped places
            snapToGrid(rects, boxW, b.key);
            for (const x of boxes) sgLayout[x.layoutKey] = toFraction(rects.get(x.key));
          } else {
            sgLayout[b.layoutKey] = toFraction(rects.get(b.key));
          }
          update({ sgLayout }, 'layout');
        }));
      layer.append(div);
    }
    drawLinks();
  }

  /** Forgets the saved box positions: the automatic layout (or its grid-snapped form) again. */
  function arrange() {
    update({ sgLayout: {} }, 'layout');
  }

  function moved(e) {
    return e.subject && (Math.abs(e.x - e.subject.x) > 1 || Math.abs(e.y - e.subject.y) > 1);
  }

  function boxName(b) {
    return b.group >= 0 ? b.label : displayLabel(state.model.byId.get(b.members[0])) || b.members[0];
  }

  function boxElement(b) {
    const m = state.model;
    const selected = state.subgraphSelection.has(b.key);
    const clicked = b.members.includes(state.clickedId);
    const div = el('div', {
      class: `sg-box${b.group >= 0 ? ' group' : ''}${selected ? ' selected' : ''}${clicked ? ' clicked' : ''}`,
      dataset: { key: b.key, nodeIds: b.members.join(',') },
      title: b.members.map((id) => `${id}: ${displayLabel(m.byId.get(id))}`).join('\n'),
    });
    div.addEventListener('click', (e) => {
      if (e.target.closest('button,input')) return;
      if (e.shiftKey || state.gHeld) {
        const sel = new Set(state.subgraphSelection);
        if (sel.has(b.key)) sel.delete(b.key); else sel.add(b.key);
        update({ subgraphSelection: sel }, 'sg-select');
      } else if (e.ctrlKey || e.metaKey) {
        if (b.group < 0) togglePin(b.members[0]);
      } else {
        update({ clickedId: b.members[0] === state.clickedId ? null : b.members[0] }, 'select');
      }
    });
    div.addEventListener('mouseenter', () => update({ hoveredId: b.members[0] }, 'hover'));
    div.addEventListener('mouseleave', () => update({ hoveredId: null }, 'hover'));
    if (b.group >= 0) {
      const label = el('span', { class: 'sg-label editable', text: b.label, title: 'Click to rename' });
      label.addEventListener('click', (e) => { e.stopPropagation(); editGroupLabel(b.group, div); });
      div.append(el('div', { class: 'sg-top' }, label,
        el('button', { class: 'sg-x', title: 'Ungroup', 'aria-label': 'Ungroup', text: '×', onclick: (e) => { e.stopPropagation(); ungroup(b.group); } })),
      el('div', { class: 'sg-members' }, b.members.map((id) => el('span', { class: 'member-dot', title: `${id}: ${ownLabel(m.byId.get(id)) || featureName(m.byId.get(id))}` })),
        el('span', { class: 'muted', text: ` ${b.members.length} nodes` })));
    } else {
      const n = m.byId.get(b.members[0]);
      div.append(el('div', { class: 'sg-top' },
        el('span', { class: 'sg-label', text: `${GLYPH[n.kind]} ${ownLabel(n) || featureName(n)}` }),
        el('button', { class: 'sg-x', title: 'Unpin', 'aria-label': 'Unpin', text: '×', onclick: (e) => { e.stopPropagation(); togglePin(n.id); } })),
      el('div', { class: 'sg-members muted', text: `${layerName(n)} · “${m.tokens[n.pos] ?? ''}”` }));
    }
    return div;
  }

  /** An inline text field over the group's label; Enter or leaving saves, Escape cancels. */
  function editGroupLabel(gi, div, value = state.supernodes[gi][0], focus = true) {
    const input = el('input', { class: 'sg-edit', type: 'text', value, 'aria-label': 'Supernode label', maxlength: 2000,
      dataset: { gi } });
    const top = div.querySelector('.sg-top');
    top.replaceChildren(input);
    if (focus) {
      input.focus();
      if (value === state.supernodes[gi][0]) input.select();
    }
    let done = false;
    const finish = (save) => {
      if (done || input.dataset.dropped) return;
      done = true;
      input.dataset.dropped = 'true'; // finished: the redraw below must not keep it
      if (save) {
        const label = input.value.trim() || 'supernode';
        const supernodes = state.supernodes.map((g, i) => (i === gi ? [label, ...g.slice(1)] : g));
        update({ supernodes }, 'annotations');
      } else {
        render();
      }
    };
    input.addEventListener('keydown', (e) => {
      e.stopPropagation();
      if (e.key === 'Enter') finish(true);
      if (e.key === 'Escape') finish(false);
    });
    input.addEventListener('blur', () => finish(true));
  }

  function ungroup(gi) {
    update({ supernodes: state.supernodes.filter((_, i) => i !== gi) }, 'annotations');
  }

  /** Groups the selected boxes; existing supernodes among them dissolve into the new one and lend it their label. */
  function groupSelection() {
    const boxes = subgraphBoxes().filter((b) => state.subgraphSelection.has(b.key));
    if (boxes.length < 2) return false;
    const members = [...new Set(boxes.flatMap((b) => b.members))];
    const groupsUsed = new Set(boxes.filter((b) => b.group >= 0).map((b) => b.group));
    const lastGroup = boxes.filter((b) => b.group >= 0).pop();
    const first = state.model.byId.get(members[0]);
    const label = lastGroup ? lastGroup.label : ownLabel(first) || 'supernode';
    const kept = state.supernodes.filter((_, i) => !groupsUsed.has(i))
      .map((g) => [g[0], ...g.slice(1).filter((id) => !members.includes(id))]).filter((g) => g.length > 2);
    const pinned = [...state.pinnedIds, ...members.filter((id) => !state.pinnedIds.includes(id))];
    update({ supernodes: [...kept, [label, ...members]], pinnedIds: pinned, subgraphSelection: new Set() }, 'annotations');
    const gi = state.supernodes.length - 1;
    const div = layer.querySelector(`.sg-box[data-key="${CSS.escape(`supernode:${label}:${gi}`)}"]`);
    if (div) editGroupLabel(gi, div);
    if (onGroupCreated) onGroupCreated(gi);
    return true;
  }

  new ResizeObserver(() => render()).observe(body);
  return { render, groupSelection, arrange };
}
