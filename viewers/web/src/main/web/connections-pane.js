// Pane B: the strongest inputs and outputs of the selected node, signed and weighted.

import { state, update, togglePin } from './store.js';
import { displayLabel, layerName, linkColor, GLYPH, featureName } from './model.js';
import { el, clear, fmt } from './dom.js';

const ROWS = 30;

export function createConnectionsPane(root) {
  const body = root.querySelector('.pane-body');

  function row(link, other, pct) {
    const n = other;
    const arrow = n.pos < (state.clickedNode?.pos ?? n.pos) ? '←' : n.pos > (state.clickedNode?.pos ?? n.pos) ? '→' : '';
    const r = el('div', {
      class: `conn-row${state.pinnedIds.includes(n.id) ? ' pinned' : ''}${state.hoveredId === n.id ? ' hovered' : ''}`,
      dataset: { nodeId: n.id },
      title: `${n.id}: weight ${fmt(link.weight, 4)}, ${fmt(pct * 100, 1)}% of the target's input`,
      onmouseenter: () => update({ hoveredId: n.id }, 'hover'),
      onmouseleave: () => update({ hoveredId: null }, 'hover'),
      onclick: (e) => (e.ctrlKey || e.metaKey ? togglePin(n.id) : update({ clickedId: n.id }, 'select')),
    },
    el('span', { class: 'swatch', style: { background: linkColor(pct) } }),
    el('span', { class: 'glyph', text: GLYPH[n.kind] }),
    el('span', { class: 'conn-label', text: displayLabel(n) || featureName(n) }),
    el('span', { class: 'conn-arrow', text: arrow }),
    el('span', { class: 'conn-layer', text: layerName(n) }),
    el('span', { class: `conn-weight ${link.weight >= 0 ? 'pos' : 'neg'}`, text: (link.weight >= 0 ? '+' : '') + fmt(link.weight) }));
    return r;
  }

  function column(title, items) {
    // by |weight|: an output's pct is a share of each target's own input, so ordering by it scrambles the weights
    // (most visibly for embeddings, whose outputs reach many different targets)
    const pos = items.filter((i) => i.link.weight > 0).sort((a, b) => b.link.weight - a.link.weight).slice(0, ROWS);
    const neg = items.filter((i) => i.link.weight < 0).sort((a, b) => a.link.weight - b.link.weight).slice(0, ROWS);
    return el('div', { class: 'conn-col' },
      el('h3', { text: `${title} (${items.length})` }),
      el('div', { class: 'conn-section', text: `Positive · ${pos.length}` }),
      pos.map((i) => row(i.link, i.other, i.pct)),
      el('div', { class: 'conn-section', text: `Negative · ${neg.length}` }),
      neg.map((i) => row(i.link, i.other, i.pct)));
  }

  function render() {
    clear(body);
    const m = state.model;
    const n = m && state.clickedId && m.byId.get(state.clickedId);
    state.clickedNode = n || null;
    if (!n) {
      body.append(el('p', { class: 'hint', text: 'Click a node to see what drives it and what it drives. '
        + 'Ctrl/⌘-click pins a node to the subgraph.' }));
      return;
    }
    const header = el('div', { class: 'conn-header', onclick: (e) => (e.ctrlKey || e.metaKey ? togglePin(n.id) : null) },
      el('span', { class: 'glyph', text: GLYPH[n.kind] }),
      el('strong', { text: displayLabel(n) || featureName(n) }),
      el('span', { class: 'muted', text: ` ${n.id} · ${layerName(n)} · pos ${n.pos}` }));
    const inputs = n.inputs.map((l) => ({ link: l, other: l.source, pct: l.pct }));
    const outputs = n.outputs.map((l) => ({ link: l, other: l.target, pct: l.pct }));
    body.append(header, el('div', { class: 'conn-cols' }, column('Inputs', inputs), column('Outputs', outputs)));
  }

  return { render };
}
