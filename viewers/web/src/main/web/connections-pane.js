// Pane B: the strongest inputs and outputs of the selected node, signed and weighted.

import { state, update, togglePin } from './store.js';
import { displayLabel, layerName, linkColor, GLYPH, featureName } from './model.js';
import { el, clear, fmt } from './dom.js';
import { headDims, linkGrid, nodeGrid, rankHeads, heatMap, topHeads, signed } from './heads.js';
import { qkSection, qkHeads, showQkEntry } from './qk.js';

const ROWS = 30;

export function createConnectionsPane(root) {
  const body = root.querySelector('.pane-body');
  let headsOpen = true;  // the attention-heads section, as the user last left it
  let dims = null;       // the graph's head dimensions while rendering, null when it has no head loadings
  let anyQk = false;     // whether a link of the view has QK attribution (then links can be selected even without dims)

  const isSelected = (link) => !!state.selectedLink && state.selectedLink.source === link.source.id
    && state.selectedLink.target === link.target.id;

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
    if (dims || anyQk) {
      // selects the link: its head loadings (and QK attribution) replace the node's in the attention-heads section
      const has = !!(link.heads || link.bypass || link.qk);
      r.classList.add('with-heads');
      if (isSelected(link)) r.classList.add('link-selected');
      const what = [link.heads || link.bypass ? 'attention-head loadings' : null, link.qk ? 'QK attribution' : null]
        .filter(Boolean).join(' and ');
      r.append(el('button', { type: 'button', class: `conn-heads${isSelected(link) ? ' active' : ''}${link.qk ? ' has-qk' : ''}`,
        text: '▦', disabled: !has, 'aria-label': `Head loadings of the link ${link.source.id} → ${link.target.id}`,
        title: has ? `Show this link's ${what}` : 'No head loadings stored for this link',
        onclick: (e) => {
          e.stopPropagation();
          update({ selectedLink: isSelected(link) ? null : { source: link.source.id, target: link.target.id } }, 'select');
        } }));
    }
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

  /** The selected node's link that is selected, or null. */
  function selectedLinkOf(n) {
    if (!state.selectedLink) return null;
    return n.inputs.find(isSelected) || n.outputs.find(isSelected) || null;
  }

  /** The attention-heads section: the selected link's loadings, else the heads carrying the node's inputs. */
  /** A node id in a QK list: its label as a button that selects it when the page holds the node, else the raw id. */
  function nodeLink(id) {
    const n = state.model.byId.get(id);
    if (!n) return el('span', { class: 'qk-node missing', dataset: { nodeId: id }, text: id, title: `${id}: not in this view` });
    return el('button', { type: 'button', class: 'link qk-node', dataset: { nodeId: id }, text: displayLabel(n) || featureName(n),
      title: `${id} · ${layerName(n)} · pos ${n.pos}`,
      onmouseenter: () => update({ hoveredId: id }, 'hover'),
      onmouseleave: () => update({ hoveredId: null }, 'hover'),
      onclick: (e) => (e.ctrlKey || e.metaKey ? togglePin(id) : update({ clickedId: id }, 'select')) });
  }

  function headsSection(n) {
    const link = selectedLinkOf(n);
    if (!dims && !anyQk) {
      return el('p', { class: 'heads-none muted', text: 'No head loadings in this graph; run attribute '
        + '--head-loadings to see which attention heads carry its links.' });
    }
    const box = el('details', { class: 'heads', open: headsOpen },
      el('summary', { text: 'Attention heads' }));
    box.addEventListener('toggle', () => { headsOpen = box.open; });
    if (link) {
      box.append(el('div', { class: 'heads-title', dataset: { scope: 'link' } },
        el('span', { text: `Link ${link.source.id} → ${link.target.id}, weight ${signed(link.weight)}` }),
        el('button', { type: 'button', class: 'link heads-back', text: 'back to the node',
          onclick: () => update({ selectedLink: null }, 'select') })));
      if (dims && (link.heads || link.bypass)) {
        const grid = linkGrid(link, dims);
        box.append(heatMap(grid, { scope: 'link', rank: rankHeads(grid), marked: qkHeads(link),
          onMarked: (layer, head) => showQkEntry(box, layer, head) }));
      } else {
        box.append(el('p', { class: 'muted', text: 'No head loadings stored for this link.' }));
      }
      if (link.qk) box.append(qkSection(link, { meta: state.model.meta, tokens: state.model.tokens, nodeLink }));
      return box;
    }
    if (!dims) {
      box.append(el('p', { class: 'heads-none muted', text: 'No head loadings in this graph; ▦ on a link shows its QK '
        + 'attribution.' }));
      return box;
    }
    const grid = nodeGrid(n, dims);
    box.append(el('div', { class: 'heads-title', dataset: { scope: 'node' } },
      el('span', { text: `Heads carrying this node's inputs: ${grid.links} of ${grid.inputs} input links shown have `
        + 'loadings, summed. ▦ on a link shows that link.' })));
    if (!grid.links) {
      box.append(el('p', { class: 'muted heads-empty', text: 'No input link of this node carries head loadings.' }));
      return box;
    }
    const rank = rankHeads(grid);
    box.append(heatMap(grid, { scope: 'node', rank }),
      el('div', { class: 'heads-top-title muted', text: 'Top heads by |sum of loadings|' }), topHeads(rank));
    return box;
  }

  function render() {
    clear(body);
    const m = state.model;
    dims = headDims(m);
    anyQk = !!m && m.links.some((l) => l.qk);
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
    body.append(header, headsSection(n), el('div', { class: 'conn-cols' }, column('Inputs', inputs), column('Outputs', outputs)));
  }

  return { render };
}
