// The viewer's state, its URL form (the reference's parameter names, so links are shareable) and change events.

const listeners = new Set();

export const state = {
  slug: null,
  graphs: [],
  status: null,
  view: null,             // the pruned graph from the server (see model.js for the derived index)
  model: null,
  pinnedIds: [],
  supernodes: [],         // [[label, id, id, ...], ...]
  clickedId: null,
  hoveredId: null,
  selectedLink: null,     // {source, target} node ids: the link whose head loadings are shown (connections pane)
  pruningThreshold: null,
  densityThreshold: null,
  linkType: 'either',
  showAllLinks: true,
  labels: {},             // node id -> label (annotations)
  search: '',
  searchHits: new Set(),
  subgraphSelection: new Set(), // boxes selected for grouping
  sgLayout: {},           // box key -> [x, y] in 0..1 units
  sgSnap: false,          // snap subgraph boxes to a grid
  clerpRules: [],         // label overrides still to apply to nodes as views arrive: {key, label, weak}
  urlClerps: null,        // the URL's clerps, kept in the URL until they have been saved
  annotationsVersion: 0,
  savedSubgraphs: [],
  saveState: 'saved',     // saved | dirty | saving | conflict | error
  saveMessage: '',
};

export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Applies a change and tells every pane what changed. */
export function update(patch, reason = 'state') {
  Object.assign(state, patch);
  for (const fn of listeners) fn(reason, patch);
}

export const LINK_TYPES = ['input', 'output', 'either', 'both'];
const isNumber = (v) => typeof v === 'number' && Number.isFinite(v);
const isNone = (v) => v === null || v === undefined || v === '' || v === 'null' || v === 'undefined';

/** Reads the URL's parameters; missing ones are null so saved state can fill them (URL > saved > defaults). */
export function readUrl() {
  const q = new URLSearchParams(location.search);
  const out = {};
  out.slug = isNone(q.get('slug')) ? null : q.get('slug');
  if (q.has('pinnedIds')) {
    out.pinnedIds = (q.get('pinnedIds') || '').split(',').map((s) => s.trim()).filter(Boolean);
  }
  if (q.has('supernodes')) out.supernodes = parseSupernodes(q.get('supernodes'));
  const clicked = q.get('clickedId');
  if (q.has('clickedId')) out.clickedId = isNone(clicked) || clicked.startsWith('supernode-') ? null : clicked;
  for (const key of ['pruningThreshold', 'densityThreshold']) {
    if (!isNone(q.get(key))) {
      const v = Number(q.get(key));
      if (Number.isFinite(v) && v >= 0 && v <= 1) out[key] = v;
    }
  }
  if (LINK_TYPES.includes(q.get('linkType'))) out.linkType = q.get('linkType');
  if (q.has('clerps')) out.clerps = parseClerps(q.get('clerps'));
  if (!isNone(q.get('subgraph'))) out.subgraph = q.get('subgraph');
  return out;
}

export function parseSupernodes(value) {
  if (Array.isArray(value)) return value.filter((g) => Array.isArray(g) && g.length > 0).map((g) => g.map(String));
  if (isNone(value)) return [];
  try {
    return parseSupernodes(JSON.parse(value));
  } catch {
    return [];
  }
}

/**
 * `clerps` in every form it is met in: Neuronpedia's array of [key, label] pairs, the reference's JSON text of that
 * array (the URL parameter and a saved `qParams.clerps`), or that text once more JSON-encoded as a string.
 */
export function parseClerps(value, depth = 0) {
  if (Array.isArray(value)) {
    return value.filter((p) => Array.isArray(p) && p.length >= 2 && p[0] !== null && p[0] !== undefined
      && p[1] !== null && p[1] !== undefined).map((p) => [String(p[0]).trim(), String(p[1])]).filter((p) => p[0]);
  }
  if (typeof value !== 'string' || isNone(value) || depth > 2) return [];
  try {
    return parseClerps(JSON.parse(value), depth + 1);
  } catch {
    return [];
  }
}

/** Writes the state into the URL in place (no history entry), as the reference does. */
export function writeUrl() {
  const q = new URLSearchParams();
  if (state.slug) q.set('slug', state.slug);
  if (state.pinnedIds.length) q.set('pinnedIds', state.pinnedIds.join(','));
  if (state.supernodes.length) q.set('supernodes', JSON.stringify(state.supernodes));
  if (state.clickedId) q.set('clickedId', state.clickedId);
  // only values that are set: never "undefined" or "null" (they would read back as nothing anyway)
  if (isNumber(state.pruningThreshold)) q.set('pruningThreshold', String(state.pruningThreshold));
  if (isNumber(state.densityThreshold)) q.set('densityThreshold', String(state.densityThreshold));
  if (LINK_TYPES.includes(state.linkType)) q.set('linkType', state.linkType);
  if (state.urlClerps && state.urlClerps.length) q.set('clerps', JSON.stringify(state.urlClerps));
  const url = `${location.pathname}?${q}`;
  if (url !== location.pathname + location.search) history.replaceState(null, '', url);
}

/** The supernode a node belongs to, or null. */
export function groupOf(id) {
  return state.supernodes.find((g) => g.slice(1).includes(id)) || null;
}

export function togglePin(id) {
  if (!id) return;
  const pinned = state.pinnedIds.includes(id);
  let supernodes = state.supernodes;
  if (pinned) {
    // a group left with fewer than two members dissolves (as on Neuronpedia)
    supernodes = supernodes
      .map((g) => [g[0], ...g.slice(1).filter((m) => m !== id)])
      .filter((g) => g.length > 2);
  }
  update({
    pinnedIds: pinned ? state.pinnedIds.filter((p) => p !== id) : [...state.pinnedIds, id],
    supernodes,
  }, 'annotations');
}
