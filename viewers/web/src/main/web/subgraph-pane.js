// Pane D: pinned nodes as boxes laid out by position and layer, grouped into labelled supernodes, with the weights
// between boxes. Boxes are HTML (text, editing) over an SVG layer for the links; d3 drives dragging and paths.

import { state, update, togglePin } from './store.js';
import { displayLabel, featureName, linkColor, ownLabel, GLYPH, layerName } from './model.js';
import { el, clear, fmt } from './dom.js';

const d3 = window.d3;
const BOX_W = 136;
const BOX_H = 40;

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

export function createSubgraphPane(root, { onGroupCreated }) {
  const body = root.querySelector('.pane-body');
  const svg = d3.select(body).append('svg').attr('class', 'sg-links');
  const layer = el('div', { class: 'sg-boxes' });
  body.append(layer);
  let positions = new Map();

  function defaultPositions(boxes, width, height) {
    const m = state.model;
    const maxPos = Math.max(1, m.tokens.length - 1);
    const cells = new Map();
    const out = new Map();
    for (const b of boxes) {
      const nodes = b.members.map((id) => m.byId.get(id));
      const pos = d3.mean(nodes, (n) => n.pos);
      const row = d3.mean(nodes, (n) => n.row);
      const key = `${Math.round(pos)}:${Math.round(row)}`;
      const k = cells.get(key) || 0;
      cells.set(key, k + 1);
      const x = 0.06 + (0.82 * pos) / maxPos + k * (BOX_W + 10) / Math.max(width, 1);
      const y = 0.88 - (0.8 * row) / Math.max(1, m.rows - 1);
      out.set(b.key, [Math.min(0.98, x), y]);
    }
    return out;
  }

  function render() {
    const m = state.model;
    const { width, height } = body.getBoundingClientRect();
    clear(layer);
    svg.selectAll('*').remove();
    svg.attr('width', width).attr('height', height);
    const boxes = m ? subgraphBoxes() : [];
    if (!boxes.length) {
      layer.append(el('p', { class: 'hint', text: 'Ctrl/⌘-click nodes to pin them here. Shift-click (or hold G and '
        + 'click) boxes, then press G or “Group” to make a supernode; click its label to rename it.' }));
      return;
    }
    const defaults = defaultPositions(boxes, width, height);
    positions = new Map(boxes.map((b) => [b.key, state.sgLayout[b.layoutKey] || defaults.get(b.key)]));
    const px = (b) => {
      const [x, y] = positions.get(b.key);
      return [Math.max(0, Math.min(width - BOX_W, x * width - BOX_W / 2)), Math.max(0, Math.min(height - BOX_H, y * height - BOX_H / 2))];
    };
    const links = boxLinks(boxes);
    const byKey = new Map(boxes.map((b) => [b.key, b]));
    const paths = svg.selectAll('path').data(links).join('path')
      .attr('fill', 'none')
      .attr('stroke', (l) => linkColor(l.value))
      .attr('stroke-width', (l) => Math.max(0.8, Math.min(10, 15 * Math.abs(l.value))))
      .attr('stroke-opacity', 0.85);
    paths.append('title').text((l) => `${boxName(byKey.get(l.source))} → ${boxName(byKey.get(l.target))}: ${fmt(l.value, 3)}`);
    const labels = svg.selectAll('text.sg-weight').data(links.filter((l) => Math.abs(l.value) >= 0.05)).join('text')
      .attr('class', 'sg-weight').text((l) => fmt(l.value, 2));
    const drawLinks = () => {
      paths.attr('d', (l) => {
        const [sx, sy] = px(byKey.get(l.source));
        const [tx, ty] = px(byKey.get(l.target));
        const a = [sx + BOX_W / 2, sy + BOX_H / 2];
        const b = [tx + BOX_W / 2, ty + BOX_H / 2];
        return `M${a[0]},${a[1]} C${a[0]},${(a[1] + b[1]) / 2} ${b[0]},${(a[1] + b[1]) / 2} ${b[0]},${b[1]}`;
      });
      labels.attr('x', (l) => (px(byKey.get(l.source))[0] + px(byKey.get(l.target))[0]) / 2 + BOX_W / 2 + 4)
        .attr('y', (l) => (px(byKey.get(l.source))[1] + px(byKey.get(l.target))[1]) / 2 + BOX_H / 2);
    };
    drawLinks();

    for (const b of boxes) {
      const div = boxElement(b);
      const place = () => { const [x, y] = px(b); div.style.left = `${x}px`; div.style.top = `${y}px`; };
      place();
      d3.select(div).call(d3.drag().filter((e) => !e.target.closest('input,button'))
        .on('drag', (e) => {
          const [x, y] = positions.get(b.key);
          positions.set(b.key, [x + e.dx / width, y + e.dy / height]);
          place();
          drawLinks();
        })
        .on('end', (e) => {
          if (e.dx === 0 && e.dy === 0 && !moved(e)) return;
          update({ sgLayout: { ...state.sgLayout, [b.layoutKey]: positions.get(b.key) } }, 'layout');
        }));
      layer.append(div);
    }
  }

  function moved(e) {
    return e.sourceEvent && e.subject && (Math.abs(e.x - e.subject.x) > 1 || Math.abs(e.y - e.subject.y) > 1);
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
  function editGroupLabel(gi, div) {
    const input = el('input', { class: 'sg-edit', type: 'text', value: state.supernodes[gi][0], 'aria-label': 'Supernode label', maxlength: 2000 });
    const top = div.querySelector('.sg-top');
    top.replaceChildren(input);
    input.focus();
    input.select();
    let done = false;
    const finish = (save) => {
      if (done) return;
      done = true;
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
  return { render, groupSelection };
}
