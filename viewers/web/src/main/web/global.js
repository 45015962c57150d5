// The cross-graph page: features of a `circuit-tracer batch` ranked by how many graphs they appear in, each with
// links that open a graph with the feature's nodes pinned (the viewer's `pinnedIds` / `clickedId` URL state).

import { api } from './api.js';
import { el, clear, fmt } from './dom.js';

const $ = (sel) => document.querySelector(sel);
const PAGE = 200; // rows drawn at a time: 5,000 rows of 50 links each would be a quarter million elements

let rows = [];
let sort = { key: 'rank', dir: 1 };
let shown = PAGE;

/** The viewer's address for `slug` with the feature's nodes pinned and its first node selected. */
export function graphLink(slug, nodeIds) {
  const q = new URLSearchParams({ slug });
  if (nodeIds && nodeIds.length) {
    q.set('pinnedIds', nodeIds.join(','));
    q.set('clickedId', nodeIds[0]);
  }
  return `/?${q}`;
}

function visible() {
  const layer = $('#layer-filter').value.trim();
  const filtered = layer === '' ? rows : rows.filter((r) => String(r.layer) === layer);
  const value = (r) => (r[sort.key] === null || r[sort.key] === undefined ? Infinity : r[sort.key]);
  return [...filtered].sort((a, b) => (value(a) - value(b)) * sort.dir || a.rank - b.rank);
}

function render() {
  const list = visible();
  const body = clear($('#global-table tbody'));
  for (const r of list.slice(0, shown)) {
    const links = (r.appears_in || []).map((a) => el('a', {
      href: graphLink(a.slug, a.node_ids), text: a.slug, class: 'graph-link',
      title: `influence ${fmt(a.influence)} in ${a.slug}`,
    }));
    const more = r.graphs - links.length;
    body.append(el('tr', { dataset: { layer: r.layer, feature: r.feature } },
      el('td', { class: 'num', text: r.rank }),
      el('td', { class: 'num', text: r.layer }),
      el('td', { class: 'num', text: r.feature, title: `feature id ${r.feature_id ?? ''} (L${r.layer}/${r.feature})` }),
      el('td', { class: 'num', text: r.graphs }),
      el('td', { class: 'num', text: fmt(r.mean_influence) }),
      el('td', { class: 'num', text: fmt(r.min_influence) }),
      el('td', { class: 'graph-links' }, links, more > 0 ? el('span', { class: 'muted', text: `and ${more} more` }) : null)));
  }
  const more = $('#btn-more');
  more.hidden = list.length <= shown;
  more.textContent = `Show ${Math.min(PAGE, list.length - shown)} more (of ${list.length})`;
  for (const th of document.querySelectorAll('#global-table th[data-key]')) {
    if (th.dataset.key === sort.key) th.setAttribute('aria-sort', sort.dir > 0 ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
}

function showMessage(text) {
  const m = $('#message');
  m.textContent = text;
  m.hidden = false;
}

function wire() {
  for (const th of document.querySelectorAll('#global-table th[data-key]')) {
    th.querySelector('button').addEventListener('click', () => {
      const key = th.dataset.key;
      // counts read best from the most; influences (lower = stronger) and positions from the least
      sort = sort.key === key ? { key, dir: -sort.dir } : { key, dir: key === 'graphs' ? -1 : 1 };
      shown = PAGE;
      render();
    });
  }
  $('#layer-filter').addEventListener('input', () => { shown = PAGE; render(); });
  $('#btn-more').addEventListener('click', () => { shown += PAGE; render(); });
}

async function main() {
  wire();
  try {
    const doc = await api.featuresAcrossGraphs();
    rows = doc.features.map((r, i) => ({ ...r, rank: i + 1 }));
    const total = doc.features_total ?? rows.length;
    $('#global-summary').textContent = `${rows.length === total ? total : `${rows.length} of ${total}`} features`
      + (doc.graphs_total !== undefined ? ` across ${doc.graphs_total} graphs` : '');
    render();
  } catch (e) {
    showMessage(e.message);
  }
  document.body.dataset.ready = 'true';
}

main();
