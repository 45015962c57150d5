// QK attribution of a link's heads (issue 20, docs/attention.md "QK attribution"): why a head's query attended to its
// key. The graph format: per link qk [{layer, head, query, key, score, logit, constant, qk_tracing_results:
// {pair_wise_contributors [[q node, k node, v]], top_q_marginal_contributors [[node, v]],
// top_k_marginal_contributors [[node, v]]}}], metadata.qk {links, top_k}. score = Σ pairwise + Σ query marginals +
// Σ key marginals + constant over all of the graph's nodes; the file lists only the largest terms.

import { el } from './dom.js';
import { exact, signed } from './heads.js';

const TOP_TERMS = 10; // rows of each list shown before "show all"

const isIndex = (v) => Number.isInteger(v) && v >= 0;
const isNumber = (v) => typeof v === 'number' && Number.isFinite(v);
const isId = (v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

function pairs(list) {
  return Array.isArray(list)
    ? list.filter((e) => Array.isArray(e) && e.length >= 3 && isId(e[0]) && isId(e[1]) && isNumber(e[2]))
      .map((e) => ({ q: String(e[0]), k: String(e[1]), value: e[2] }))
    : [];
}

function marginals(list) {
  return Array.isArray(list)
    ? list.filter((e) => Array.isArray(e) && e.length >= 2 && isId(e[0]) && isNumber(e[1]))
      .map((e) => ({ node: String(e[0]), value: e[1] }))
    : [];
}

/**
 * A link's qk entries as the model keeps them: those with a whole layer and head, their term lists with malformed
 * rows left out; null when none is left.
 */
export function readLinkQk(raw) {
  if (!Array.isArray(raw)) return null;
  const out = [];
  for (const e of raw) {
    if (!e || typeof e !== 'object' || Array.isArray(e) || !isIndex(e.layer) || !isIndex(e.head)) continue;
    const r = e.qk_tracing_results && typeof e.qk_tracing_results === 'object' ? e.qk_tracing_results : {};
    out.push({
      layer: e.layer, head: e.head,
      query: isIndex(e.query) ? e.query : null,
      key: isIndex(e.key) ? e.key : null,
      score: isNumber(e.score) ? e.score : null,
      logit: isNumber(e.logit) ? e.logit : null,
      constant: isNumber(e.constant) ? e.constant : null,
      pairs: pairs(r.pair_wise_contributors),
      qMarginals: marginals(r.top_q_marginal_contributors),
      kMarginals: marginals(r.top_k_marginal_contributors),
    });
  }
  return out.length ? out : null;
}

/** The heads of a link with a qk entry, as "layer.head" keys. */
export function qkHeads(link) {
  return new Set((link.qk || []).map((e) => `${e.layer}.${e.head}`));
}

/** Whether two scores agree up to float32 rounding. */
function same(a, b) {
  return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
}

const byMagnitude = (a, b) => Math.abs(b.value) - Math.abs(a.value);

/**
 * The "Attention (QK)" section of a selected link: per explained head its score, the top pairwise terms (query-side
 * node → key-side node), the query- and key-side marginals and the constant. nodeLink(id) gives a node's label: a
 * button that selects it when the node is in the page's view, else the raw id.
 */
export function qkSection(link, { meta, tokens, nodeLink }) {
  const d3 = window.d3;
  const info = meta && typeof meta.qk === 'object' && meta.qk ? meta.qk : null;
  const box = el('div', { class: 'qk' },
    el('div', { class: 'qk-title', text: 'Attention (QK)' }),
    el('div', { class: 'qk-note muted', text: 'Why each head\'s query attended to its key: its pre-softmax score split '
      + 'into query-node × key-node terms, each side\'s node against the other side\'s rest, and a constant; only '
      + `the largest terms${info && Number.isInteger(info.top_k) ? ` (${info.top_k} of each kind)` : ''} are listed.` }));
  const token = (p) => (p !== null && tokens[p] !== undefined ? ` “${tokens[p]}”` : '');
  for (const e of link.qk) {
    const name = `L${e.layer}.H${e.head}`;
    const terms = [...e.pairs, ...e.qMarginals, ...e.kMarginals];
    let max = terms.reduce((m, t) => Math.max(m, Math.abs(t.value)), e.constant === null ? 0 : Math.abs(e.constant));
    if (max === 0) max = 1;
    const colour = (v) => d3.interpolatePRGn(0.5 + 0.5 * Math.max(-1, Math.min(1, v / max)));
    const value = (v) => [
      el('td', { class: `qk-value ${v >= 0 ? 'pos' : 'neg'}`, dataset: { value: exact(v) }, title: exact(v), text: signed(v, 3) }),
      el('td', { class: 'qk-bar' }, el('span', { style: { width: `${(100 * Math.abs(v)) / max}%`, background: colour(v) } })),
    ];
    const header = el('div', { class: 'qk-head' },
      el('strong', { class: 'qk-name', text: name }),
      el('span', { class: 'qk-positions', text: `query ${e.query ?? '?'}${token(e.query)} → key ${e.key ?? '?'}${token(e.key)}` }),
      e.score === null ? null : el('span', { class: 'qk-score', title: `pre-softmax score ${exact(e.score)}`,
        text: `score ${exact(e.score)}` }),
      e.logit === null || (e.score !== null && same(e.logit, e.score)) ? null
        : el('span', { class: 'qk-logit', title: 'after the soft-cap: what the softmax takes', text: `logit ${exact(e.logit)}` }));
    const entry = el('div', { class: 'qk-entry', dataset: { layer: e.layer, head: e.head } }, header);

    const listed = terms.reduce((s, t) => s + t.value, 0) + (e.constant ?? 0);
    const table = (cls, caption, rows, cells) => {
      if (!rows.length) return el('div', { class: `qk-empty muted ${cls}`, text: `${caption}: none listed` });
      const sorted = [...rows].sort(byMagnitude);
      const body = el('tbody', {}, sorted.map((r, i) => {
        const tr = el('tr', { class: i >= TOP_TERMS ? 'qk-more' : undefined }, cells(r), value(r.value));
        if (i >= TOP_TERMS) tr.hidden = true;
        return tr;
      }));
      const t = el('table', { class: `qk-table ${cls}` },
        el('caption', { class: 'muted', text: `${caption} (${rows.length})` }), body);
      if (sorted.length <= TOP_TERMS) return t;
      const more = el('button', { type: 'button', class: 'link qk-show-all', text: `show all ${sorted.length}`,
        onclick: () => {
          const open = more.dataset.open !== 'true';
          body.querySelectorAll('tr.qk-more').forEach((tr) => { tr.hidden = !open; });
          more.dataset.open = String(open);
          more.textContent = open ? `show the top ${TOP_TERMS}` : `show all ${sorted.length}`;
        } });
      return el('div', {}, t, more);
    };
    entry.append(
      table('qk-pairs', 'Query node × key node', e.pairs, (r) => [
        el('td', { class: 'qk-q' }, nodeLink(r.q)), el('td', { class: 'qk-arrow muted', text: '→' }),
        el('td', { class: 'qk-k' }, nodeLink(r.k))]),
      el('div', { class: 'qk-marginals' },
        table('qk-qm', 'Query node × key\'s rest', e.qMarginals, (r) => [el('td', { class: 'qk-q' }, nodeLink(r.node))]),
        table('qk-km', 'Key node × query\'s rest', e.kMarginals, (r) => [el('td', { class: 'qk-k' }, nodeLink(r.node))])),
      el('div', { class: 'qk-constant' },
        el('span', { class: 'muted', text: 'constant (not from the graph\'s nodes) ' }),
        e.constant === null ? el('span', { class: 'muted', text: '—' })
          : el('span', { class: `qk-value ${e.constant >= 0 ? 'pos' : 'neg'}`, dataset: { value: exact(e.constant) },
            title: exact(e.constant), text: signed(e.constant, 3) }),
        e.score === null ? null : el('span', { class: 'qk-rest muted',
          title: 'score − (listed terms + constant): the terms too small to be listed',
          text: ` · not listed ${signed(e.score - listed, 3)}` })));
    box.append(entry);
  }
  return box;
}

/** Scrolls to the qk entry of a head in root and highlights it (the others lose their highlight). */
export function showQkEntry(root, layer, head) {
  const target = root.querySelector(`.qk-entry[data-layer='${layer}'][data-head='${head}']`);
  if (!target) return;
  root.querySelectorAll('.qk-entry.active').forEach((e) => e.classList.remove('active'));
  target.classList.add('active');
  target.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}
