// Derived graph quantities (docs/reference/graph-format.md §2.8): node kinds and rows, labels, pctInput, adjacency.

import { state, groupOf } from './store.js';
import { readLinkHeads } from './heads.js';
import { readLinkQk } from './qk.js';

export function kindOf(featureType) {
  if (!featureType) return 'feature';
  if (featureType.includes('error')) return 'error';
  if (featureType === 'embedding') return 'embedding';
  if (featureType === 'logit') return 'logit';
  return 'feature';
}

/** Display form of a token: control characters made visible. */
export function displayToken(t) {
  return String(t ?? '').replace(/\n/g, '⏎').replace(/\t/g, '→').replace(/\r/g, '↵');
}

/** Cantor unpairing of a paired feature id into [layer, index]. */
export function unpair(z) {
  let w = Math.floor((Math.sqrt(8 * z + 1) - 1) / 2);
  while ((w * (w + 1)) / 2 > z) w--;
  while (((w + 1) * (w + 2)) / 2 <= z) w++;
  const index = z - (w * (w + 1)) / 2;
  return [w - index, index];
}

function logitToken(clerp) {
  const m = /"(.*?)"/.exec(clerp || '');
  return m ? m[1] : '';
}

export function buildModel(view) {
  const meta = view.metadata || {};
  const tokens = (meta.prompt_tokens || []).map(displayToken);
  const nodes = [];
  const byId = new Map();
  let maxLayer = 0;
  for (const raw of view.nodes) {
    const kind = kindOf(raw.feature_type);
    const layer = raw.layer === 'E' ? -1 : Number(raw.layer);
    if (kind !== 'logit' && Number.isFinite(layer)) maxLayer = Math.max(maxLayer, layer);
    const n = {
      id: raw.node_id, raw, kind, layer, pos: raw.ctx_idx, feature: raw.feature,
      influence: raw.influence, activation: raw.activation, clerp: raw.clerp || '',
      tokenProb: raw.token_prob || 0, inputs: [], outputs: [], inputAbs: 0,
    };
    if (kind === 'feature' && meta.schema_version === 1 && raw.feature >= 0) {
      n.featureLayerIndex = unpair(raw.feature);
    }
    if (kind === 'logit') {
      n.token = displayToken(logitToken(raw.clerp));
      // a logit-difference target (attribute --target A-B): its "p" is the target's weight, not a probability
      n.difference = isDifferenceLabel(n.token);
    }
    nodes.push(n);
    byId.set(n.id, n);
  }
  for (const n of nodes) {
    n.row = n.kind === 'embedding' ? 0 : n.kind === 'logit' ? maxLayer + 2 : n.layer + 1;
  }
  const links = [];
  for (const l of view.links) {
    const s = byId.get(l.source);
    const t = byId.get(l.target);
    if (!s || !t) continue;
    const link = { source: s, target: t, weight: l.weight, pct: 0 };
    // attention-head loadings (heads.js), only on the links of graphs attributed with them
    if (l.head_loadings || l.head_bypass) Object.assign(link, readLinkHeads(l));
    // QK attribution of the heads that carry it (qk.js), on the links a graph explains
    if (l.qk) link.qk = readLinkQk(l.qk);
    links.push(link);
    s.outputs.push(link);
    t.inputs.push(link);
    t.inputAbs += Math.abs(l.weight);
  }
  for (const l of links) l.pct = l.target.inputAbs > 0 ? l.weight / l.target.inputAbs : 0;
  // the value of a logit difference, as far as the file's links give it: the sum of its direct inputs (the server
  // sums every link of the file; this view may hold fewer)
  const sums = (view.view && view.view.logitInputSums) || {};
  for (const n of nodes) {
    if (n.difference) n.inputSum = typeof sums[n.id] === 'number' ? sums[n.id] : n.inputs.reduce((s, l) => s + l.weight, 0);
  }
  // positions a chat template wrote (turn markers, role names): drawn dimmed so that the user's own words stand out
  const templatePositions = new Set((meta.template_positions || []).filter(Number.isInteger));
  return { meta, tokens, templatePositions, nodes, byId, links, maxLayer, rows: maxLayer + 3, view: view.view || {} };
}

/**
 * TargetSpec labels a logit difference "A − B" (U+2212 between spaces); a custom target has a virtual token id
 * past the vocabulary, so no token's text is written that way.
 */
function isDifferenceLabel(token) {
  return / \u2212 /.test(token) && !/^\s*\u2212|\u2212\s*$/.test(token);
}

/** The short text of a logit node: its token and probability, or for a logit difference what it is. */
export function logitText(n) {
  if (n.difference) return `Logit diff “${n.token}”${n.inputSum === undefined ? '' : ` Σ=${n.inputSum.toFixed(3)}`}`;
  return `Out “${n.token}” p=${n.tokenProb.toFixed(3)}`;
}

/** The node's own label: annotation, then the file's clerp, then the reference's defaults. */
export function ownLabel(n) {
  const saved = state.labels[n.id];
  if (saved) return saved;
  if (n.clerp) return n.clerp;
  const tok = state.model ? state.model.tokens[n.pos] ?? '' : '';
  if (n.kind === 'embedding') return `Emb: “${tok}”`;
  if (n.kind === 'error') return `Err: mlp “${tok}”`;
  return '';
}

/** What lists and tooltips show: [group] label, or an id-based name for unlabelled features. */
export function displayLabel(n) {
  // logits keep the exporter's load-bearing clerp in the file; lists show the short form
  const own = n.kind === 'logit' && !state.labels[n.id] ? logitText(n) : ownLabel(n) || featureName(n);
  const g = groupOf(n.id);
  return g ? `[${g[0]}] ${own}` : own;
}

export function featureName(n) {
  if (n.kind !== 'feature') return n.id;
  return n.featureLayerIndex ? `L${n.featureLayerIndex[0]}/${n.featureLayerIndex[1]}` : `F#${n.feature}`;
}

export function layerName(n) {
  if (n.kind === 'embedding') return 'Emb';
  if (n.kind === 'logit') return 'Lgt';
  return `L${n.layer}`;
}

export const GLYPH = { feature: '●', error: '◆', embedding: '■', logit: '■' };

/** Purple (inhibits) to green (excites), saturating at ±0.4 of the target's input. */
export function linkColor(pct) {
  const t = Math.max(-1, Math.min(1, pct / 0.4));
  return window.d3.interpolatePRGn(0.5 + t * 0.5);
}

export function linkWidth(pct) {
  return Math.min(3, 0.4 + Math.sqrt(Math.abs(pct)) * 3);
}

/**
 * Searches labels, ids and the names the page shows (`L1/686`), case-insensitive substring; a query that is a
 * prompt token (`Dallas`, spaces ignored) also finds every node at that token's position.
 */
export function searchNodes(model, query) {
  const q = query.trim().toLowerCase();
  if (!q || !model) return new Set();
  const atToken = new Set();
  model.tokens.forEach((t, pos) => { if (t.trim().toLowerCase() === q) atToken.add(pos); });
  const hits = new Set();
  for (const n of model.nodes) {
    if (n.id.toLowerCase().includes(q) || displayLabel(n).toLowerCase().includes(q)
        || featureName(n).toLowerCase().includes(q) || String(n.feature) === q
        || (n.token || '').toLowerCase().includes(q) || (atToken.has(n.pos) && n.kind !== 'logit')) hits.add(n.id);
  }
  return hits;
}
