// Pane C: the hovered (else selected) node: its feature's top-activating examples with per-token highlighting, the
// activation histogram, the tokens it promotes and suppresses, and its editable label.

import { state, update } from './store.js';
import { api } from './api.js';
import { displayLabel, featureName, ownLabel, layerName, GLYPH, displayToken } from './model.js';
import { mergeTokens } from './tokens.js';
import { el, clear, fmt } from './dom.js';

const d3 = window.d3;
const cache = new Map();       // feature id -> Promise of details (or null for none)

function details(z) {
  if (!cache.has(z)) {
    cache.set(z, api.feature(z).catch((e) => (e.status === 404 ? null : Promise.reject(e))));
  }
  return cache.get(z);
}

export function createFeaturePane(root, { onLabel }) {
  const body = root.querySelector('.pane-body');
  let shownId = null;
  let timer = 0;
  let editing = false;

  function currentNode() {
    const m = state.model;
    if (!m) return null;
    const id = state.hoveredId && m.byId.has(state.hoveredId) ? state.hoveredId : state.clickedId;
    return id ? m.byId.get(id) : null;
  }

  function render(force) {
    const n = currentNode();
    if (editing && !force) return;
    if (!force && n && n.id === shownId) return;
    clearTimeout(timer);
    // hovering sweeps over many nodes; wait until it settles before fetching
    timer = setTimeout(() => show(n), n && n.id === state.clickedId ? 0 : 120);
  }

  async function show(n) {
    shownId = n ? n.id : null;
    clear(body);
    if (!n) {
      body.append(el('p', { class: 'hint', text: 'Hover or click a node to see its feature: top activating examples, '
        + 'activation histogram and output tokens.' }));
      return;
    }
    const head = el('div', { class: 'feat-head' },
      el('span', { class: 'glyph', text: GLYPH[n.kind] }),
      el('h3', { class: 'feat-title', text: n.kind === 'feature' ? `Feature ${featureName(n)}` : displayLabel(n) }),
      el('span', { class: 'muted', text: `${n.id} · ${layerName(n)} · pos ${n.pos} “${state.model.tokens[n.pos] ?? ''}”` }));
    const stats = el('div', { class: 'feat-stats' });
    if (n.activation !== null && n.activation !== undefined) stats.append(el('span', { text: `Act ${fmt(n.activation, 2)}` }));
    if (n.influence !== null && n.influence !== undefined) stats.append(el('span', { text: `Influence ${fmt(n.influence, 3)}` }));
    if (n.kind === 'logit' && n.difference) {
      stats.append(el('span', { class: 'logit-diff', title: 'A logit difference target (u_A − u_B): its file "p" is the '
        + 'target\'s weight, not a probability. Σ is the sum of its direct inputs in this view.',
      text: `logit diff ${n.token}: Σ inputs ${fmt(n.inputSum, 3)} · weight ${fmt(n.tokenProb, 2)}` }));
    } else if (n.kind === 'logit') stats.append(el('span', { text: `p = ${fmt(n.tokenProb, 3)}` }));
    body.append(head, stats, labelEditor(n), nodeEffects(n));
    if (n.kind !== 'feature') return;
    const slot = el('div', { class: 'feat-details' }, el('p', { class: 'muted', text: 'Loading feature details…' }));
    body.append(slot);
    let d;
    try {
      d = await details(n.feature);
    } catch (e) {
      if (shownId === n.id) clear(slot).append(el('p', { class: 'error', text: e.message }));
      return;
    }
    if (shownId !== n.id) return;
    clear(slot);
    if (!d) {
      slot.append(el('p', { class: 'muted', text: state.status && state.status.features
        ? 'No details for this feature in the features directory.'
        : 'No feature details: the server was started without a features directory.' }));
      return;
    }
    const pct = percentile(d.quantile_values, n.activation);
    if (pct !== null) stats.append(el('span', { text: `${pct} pct` }));
    if (typeof d.activation_frequency === 'number') stats.append(el('span', { text: `Freq ${(d.activation_frequency * 100).toFixed(3)}%` }));
    slot.append(histogram(d, n.activation), logits(d), examples(d));
  }

  function labelEditor(n) {
    const input = el('input', { class: 'label-input', type: 'text', value: ownLabel(n), placeholder: 'Add a label…',
      'aria-label': 'Node label', maxlength: 2000 });
    const commit = () => {
      editing = false;
      const text = input.value.trim();
      if (text !== (state.labels[n.id] || '') && text !== n.clerp) onLabel(n.id, text);
    };
    input.addEventListener('focus', () => { editing = true; });
    input.addEventListener('blur', commit);
    input.addEventListener('keydown', (e) => {
      e.stopPropagation();
      if (e.key === 'Enter') input.blur();
      if (e.key === 'Escape') { input.value = ownLabel(n); input.blur(); }
    });
    return el('label', { class: 'label-row' }, el('span', { text: 'Label' }), input);
  }

  function nodeEffects(n) {
    const box = el('div', { class: 'effects' });
    const rows = [['Top outputs', n.raw.top_logit_effects], ['Bottom outputs', n.raw.bottom_logit_effects],
      ['Top inputs', n.raw.top_embedding_effects], ['Bottom inputs', n.raw.bottom_embedding_effects]];
    for (const [name, v] of rows) {
      if (!v) continue;
      const toks = Array.isArray(v) ? v : Object.keys(v);
      box.append(tokenRow(name, toks));
    }
    return box;
  }

  function tokenRow(name, toks) {
    return el('div', { class: 'token-row' }, el('span', { class: 'token-row-name', text: name }),
      toks.slice(0, 12).map((t) => el('span', { class: 'chip', text: displayToken(t) })));
  }

  function logits(d) {
    const box = el('div', { class: 'effects' });
    if (d.top_logits && d.top_logits.length) box.append(tokenRow('Promotes', d.top_logits));
    if (d.bottom_logits && d.bottom_logits.length) box.append(tokenRow('Suppresses', d.bottom_logits));
    return box;
  }

  function histogram(d, act) {
    const bins = d.histogram || [];
    if (!bins.length) return el('div');
    const W = 300;
    const H = 64;
    const lo = d.act_min ?? 0;
    const hi = d.act_max ?? 1.4;
    const svg = d3.create('svg').attr('class', 'histogram').attr('viewBox', `0 0 ${W} ${H + 16}`).attr('width', W).attr('height', H + 16);
    const x = d3.scaleLinear().domain([0, bins.length]).range([0, W]);
    const y = d3.scaleLinear().domain([0, d3.max(bins) || 1]).range([H, 2]);
    svg.selectAll('rect').data(bins).join('rect')
      .attr('x', (_, i) => x(i) + 0.5).attr('width', Math.max(1, W / bins.length - 1))
      .attr('y', (v) => y(v)).attr('height', (v) => H - y(v)).attr('fill', '#f4a259');
    if (act !== null && act !== undefined && hi > lo) {
      const ax = Math.max(0, Math.min(W, ((act - lo) / (hi - lo)) * W));
      svg.append('line').attr('x1', ax).attr('x2', ax).attr('y1', 0).attr('y2', H)
        .attr('stroke', '#222').attr('stroke-dasharray', '3,2');
    }
    svg.append('text').attr('x', 0).attr('y', H + 13).attr('class', 'axis').text(fmt(lo, 2));
    svg.append('text').attr('x', W).attr('y', H + 13).attr('text-anchor', 'end').attr('class', 'axis').text(fmt(hi, 2));
    return el('div', { class: 'hist-box' }, el('div', { class: 'muted', text: 'Activation histogram' }), svg.node());
  }

  function examples(d) {
    const box = el('div', { class: 'examples' });
    const hi = d.act_max || Math.max(1e-9, ...((d.examples_quantiles || []).flatMap((q) => q.examples.flatMap((e) => e.tokens_acts_list))));
    const color = (a) => (a > 0 ? d3.interpolateOranges(0.15 + 0.75 * Math.min(1, a / hi)) : null);
    const centre = []; // [row, token of interest]: rows are scrolled so that token is in view once laid out
    for (const q of d.examples_quantiles || []) {
      box.append(el('h4', { text: q.quantile_name }));
      for (const ex of q.examples || []) {
        const pieces = mergeTokens(ex.tokens || [], ex.tokens_acts_list || [], ex.train_token_ind);
        const line = el('div', { class: `example${ex.is_repeated_datapoint ? ' repeated' : ''}` });
        if (ex.is_repeated_datapoint) line.append(el('span', { class: 'repeat', text: '⟳', title: 'repeated datapoint' }));
        for (const p of pieces) {
          const c = color(p.act);
          // light text on the darkest oranges so strong tokens stay readable
          const style = c ? (p.act / hi > 0.6 ? { background: c, color: '#fff' } : { background: c }) : {};
          const span = el('span', { class: `tok${p.isTrain ? ' train' : ''}`, text: displayToken(p.text),
            title: `activation ${fmt(p.act, 2)}`, style });
          if (p.isTrain) centre.push([line, span]);
          line.append(span);
        }
        box.append(line);
      }
    }
    requestAnimationFrame(() => {
      for (const [line, span] of centre) {
        line.scrollLeft = Math.max(0, span.offsetLeft - line.offsetLeft - (line.clientWidth - span.offsetWidth) / 2);
      }
    });
    return box;
  }

  return { render, refresh: () => { shownId = null; render(true); } };
}

function percentile(quantiles, act) {
  if (!Array.isArray(quantiles) || !quantiles.length || act === null || act === undefined) return null;
  const i = quantiles.findIndex((q) => q >= act);
  return i < 0 ? 100 : i + 1;
}
