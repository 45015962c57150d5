// Attention in the circuit (issue 20): a link's head loadings (the part of its weight carried by the paths through
// each attention head of each layer it passes) and a node's inputs summed over heads, as layer × head heat maps.
// The graph format: metadata.head_loadings {layers, heads, top_k}; per link head_loadings [[layer, head, loading]]
// (each layer's top-K heads by |loading|) and head_bypass [b_0 … b_{L-1}]. For every layer m:
// Σ over all heads of the loadings + bypass[m] = weight, so "other heads" = weight − bypass[m] − Σ stored loadings.

import { el } from './dom.js';

const TOP_HEADS = 8;

/** The graph's head dimensions {layers, heads, topK}, or null when neither its metadata nor a link has loadings. */
export function headDims(model) {
  if (!model) return null;
  const meta = model.meta && typeof model.meta.head_loadings === 'object' ? model.meta.head_loadings : null;
  let layers = meta && Number.isInteger(meta.layers) ? meta.layers : 0;
  let heads = meta && Number.isInteger(meta.heads) ? meta.heads : 0;
  let any = !!meta;
  for (const l of model.links) {
    if (!l.heads && !l.bypass) continue;
    any = true;
    if (l.bypass) layers = Math.max(layers, l.bypass.length);
    for (const [layer, head] of l.heads || []) {
      layers = Math.max(layers, layer + 1);
      heads = Math.max(heads, head + 1);
    }
  }
  if (!any || layers < 1) return null;
  return { layers, heads: Math.max(heads, 0), topK: meta && Number.isInteger(meta.top_k) ? meta.top_k : null };
}

/** Whether a loading array's entry is [layer, head, loading] with whole layer and head. */
function validEntry(e) {
  return Array.isArray(e) && e.length === 3 && Number.isInteger(e[0]) && Number.isInteger(e[1]) && e[0] >= 0
    && e[1] >= 0 && typeof e[2] === 'number' && Number.isFinite(e[2]);
}

/** The link's loadings and bypass as the model keeps them (null where the file has none). */
export function readLinkHeads(raw) {
  const heads = Array.isArray(raw.head_loadings) ? raw.head_loadings.filter(validEntry) : null;
  const bypass = Array.isArray(raw.head_bypass) && raw.head_bypass.every((b) => typeof b === 'number')
    ? raw.head_bypass : null;
  return { heads, bypass };
}

function emptyGrid(dims) {
  return {
    layers: dims.layers, heads: dims.heads,
    cells: Array.from({ length: dims.layers }, () => new Array(dims.heads).fill(null)), // null: not stored
    bypass: new Array(dims.layers).fill(null),
    other: new Array(dims.layers).fill(null),
    passes: new Array(dims.layers).fill(true),
  };
}

/** Whether two weights agree up to float32 rounding (the file's numbers are float32). */
function same(a, b) {
  return Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(a), Math.abs(b));
}

/**
 * One link's grid: the stored loadings per (layer, head), per layer the bypass and the other heads' part; a layer
 * the link does not pass (bypass = weight, nothing stored) has passes[m] false.
 */
export function linkGrid(link, dims) {
  const g = emptyGrid(dims);
  g.weight = link.weight;
  const stored = new Array(dims.layers).fill(0);
  const count = new Array(dims.layers).fill(0);
  for (const [layer, head, loading] of link.heads || []) {
    if (layer >= dims.layers || head >= dims.heads) continue;
    g.cells[layer][head] = (g.cells[layer][head] ?? 0) + loading;
    stored[layer] += loading;
    count[layer]++;
  }
  for (let m = 0; m < dims.layers; m++) {
    const b = link.bypass && typeof link.bypass[m] === 'number' ? link.bypass[m] : null;
    g.bypass[m] = b;
    g.other[m] = b === null ? null : link.weight - b - stored[m];
    g.passes[m] = !(b !== null && count[m] === 0 && same(b, link.weight));
  }
  return g;
}

/**
 * A node's inputs over heads: per (layer, head) the sum of the loadings of its incoming links that store one, per
 * layer the summed bypass and other heads (over the links that have a bypass), and how many links took part.
 */
export function nodeGrid(node, dims) {
  const g = emptyGrid(dims);
  const links = node.inputs.filter((l) => l.heads || l.bypass);
  g.links = links.length;
  g.inputs = node.inputs.length;
  g.weight = links.reduce((s, l) => s + l.weight, 0);
  const touched = new Array(dims.layers).fill(false);
  for (const l of links) {
    const one = linkGrid(l, dims);
    for (let m = 0; m < dims.layers; m++) {
      if (one.passes[m]) touched[m] = true;
      for (let h = 0; h < dims.heads; h++) {
        if (one.cells[m][h] !== null) g.cells[m][h] = (g.cells[m][h] ?? 0) + one.cells[m][h];
      }
      if (one.bypass[m] !== null) {
        g.bypass[m] = (g.bypass[m] ?? 0) + one.bypass[m];
        g.other[m] = (g.other[m] ?? 0) + one.other[m];
      }
    }
  }
  for (let m = 0; m < dims.layers; m++) g.passes[m] = touched[m];
  return g;
}

/** The grid's heads by |loading|, largest first: [{layer, head, value}]. */
export function rankHeads(grid) {
  const out = [];
  grid.cells.forEach((row, layer) => row.forEach((value, head) => { if (value !== null) out.push({ layer, head, value }); }));
  return out.sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
}

/** A number with its float noise cut (sums of float32s) but every digit the file gave kept. */
export function exact(v) {
  return String(Number(v.toPrecision(9)));
}

export function signed(v, digits = 3) {
  return `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
}

const headName = (layer, head) => `L${layer}.H${head}`;

/**
 * The heat map as a table: rows layers, columns heads, then "other" and "bypass"; green positive, purple negative
 * (as links are drawn), one symmetric scale over heads and other heads; the bypass column saturates on that scale.
 * Each cell's title holds its exact number. A head in marked ("layer.head": a link's heads with QK attribution) is
 * outlined, and clicking it calls onMarked(layer, head).
 */
export function heatMap(grid, { scope, rank, marked, onMarked }) {
  const d3 = window.d3;
  let max = 0;
  grid.cells.forEach((row) => row.forEach((v) => { if (v !== null) max = Math.max(max, Math.abs(v)); }));
  grid.other.forEach((v) => { if (v !== null) max = Math.max(max, Math.abs(v)); });
  if (max === 0) max = 1;
  const colour = (v) => d3.interpolatePRGn(0.5 + 0.5 * Math.max(-1, Math.min(1, v / max)));
  const ink = (v) => (Math.abs(v) / max > 0.6 ? '#fff' : '#1d2230');
  const ranks = new Map((rank || []).map((r, i) => [headName(r.layer, r.head), i + 1]));
  const head = el('tr', {}, el('th', { class: 'hm-corner', text: 'layer' }),
    Array.from({ length: grid.heads }, (_, h) => el('th', { class: 'hm-head', text: String(h), title: `head ${h}` })),
    el('th', { class: 'hm-col-other', text: 'other', title: 'The heads not stored (below the top-K of their layer)' }),
    el('th', { class: 'hm-col-bypass', text: 'bypass', title: 'The part that does not pass this layer\'s attention' }));
  const rows = grid.cells.map((row, m) => {
    const dim = !grid.passes[m];
    const tr = el('tr', { class: `hm-row${dim ? ' dim' : ''}`, dataset: { layer: m },
      title: dim ? `L${m}: ${scope === 'link' ? 'this link does not pass' : 'no input link passes'} this layer's attention` : undefined },
    el('th', { class: 'hm-layer', text: `L${m}` }));
    row.forEach((v, h) => {
      const name = headName(m, h);
      const qk = !!marked && marked.has(`${m}.${h}`);
      const extra = qk ? { qk: 'true' } : {};
      const note = qk ? ' · QK attribution below (click)' : '';
      const onclick = qk && onMarked ? () => onMarked(m, h) : undefined;
      if (v === null) {
        tr.append(el('td', { class: `hm-cell unknown${qk ? ' hm-qk' : ''}`, dataset: { layer: m, head: h, ...extra }, onclick,
          title: `${name}: not stored${dim ? '' : ' (not among the top heads of this layer)'}${note}` }));
        return;
      }
      const r = ranks.get(name);
      tr.append(el('td', { class: `hm-cell${qk ? ' hm-qk' : ''}`, dataset: { layer: m, head: h, value: exact(v), ...extra },
        style: { background: colour(v) }, onclick,
        title: `${name}: ${exact(v)}${r ? ` (#${r} by magnitude)` : ''}${note}` }));
    });
    const other = grid.other[m];
    tr.append(other === null
      ? el('td', { class: 'hm-other unknown', dataset: { layer: m }, title: `L${m} other heads: unknown (no bypass stored)` })
      : el('td', { class: 'hm-other', dataset: { layer: m, value: exact(other) }, style: { background: colour(other), color: ink(other) },
        title: `L${m} other heads: ${exact(other)}`, text: other.toFixed(2) }));
    const b = grid.bypass[m];
    tr.append(b === null
      ? el('td', { class: 'hm-bypass unknown', dataset: { layer: m }, title: `L${m} bypass: not stored` })
      : el('td', { class: 'hm-bypass', dataset: { layer: m, value: exact(b) }, style: { background: colour(b), color: ink(b) },
        title: `L${m} bypass: ${exact(b)}`, text: b.toFixed(2) }));
    return tr;
  });
  return el('div', { class: 'hm-wrap' },
    el('table', { class: 'heads-map', dataset: { scope } }, el('thead', {}, head), el('tbody', {}, rows)),
    el('div', { class: 'hm-legend muted' },
      el('span', { class: 'hm-swatch', style: { background: colour(-max) } }), ` −${max.toPrecision(3)} `,
      el('span', { class: 'hm-swatch', style: { background: colour(0) } }), ' 0 ',
      el('span', { class: 'hm-swatch', style: { background: colour(max) } }), ` +${max.toPrecision(3)}`,
      ' · blank: not stored', marked && marked.size ? ' · outlined: QK attribution below' : ''));
}

/** The node's strongest heads, as "L3.H5  +1.23". */
export function topHeads(rank) {
  return el('ol', { class: 'heads-top' }, rank.slice(0, TOP_HEADS).map((r) => el('li', {
    dataset: { layer: r.layer, head: r.head, value: exact(r.value) }, title: `${headName(r.layer, r.head)}: ${exact(r.value)}` },
  el('span', { class: 'ht-name', text: headName(r.layer, r.head) }), ' ',
  el('span', { class: `ht-value ${r.value >= 0 ? 'pos' : 'neg'}`, text: signed(r.value, 3) }))));
}
