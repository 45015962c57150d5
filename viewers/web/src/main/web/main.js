// Bootstraps the page: loads the graph list, the chosen graph's view and annotations, wires panes, saving,
// keyboard shortcuts and dialogs. State precedence per key: URL > saved annotations > graph qParams > defaults.

import { state, update, subscribe, readUrl, writeUrl, parseSupernodes, parseClerps, togglePin, LINK_TYPES } from './store.js';
import { api } from './api.js';
import { buildModel, searchNodes } from './model.js';
import { createGraphPane } from './graph-pane.js';
import { createConnectionsPane } from './connections-pane.js';
import { createFeaturePane } from './feature-pane.js';
import { createSubgraphPane } from './subgraph-pane.js';
import { createSteerPanel } from './steer-panel.js';
import { createNewGraphDialog } from './new-graph.js';
import { createLabelsDialog } from './labels-dialog.js';
import { SHORTCUTS } from './help.js';
import { el, clear, fmt } from './dom.js';

const $ = (sel) => document.querySelector(sel);
const timings = {};
let saveTimer = 0;
let saving = null;       // the save in flight (a promise), so a graph switch can wait for it
let clerpsApplied = new Set();
let savedLabelIds = new Set();
let viewTimer = 0;
let viewSeq = 0;

const graphPane = createGraphPane($('#pane-graph'));
const connections = createConnectionsPane($('#pane-connections'));
const featurePane = createFeaturePane($('#pane-feature'), { onLabel: setLabel });
const subgraph = createSubgraphPane($('#pane-subgraph'), {});
const steer = createSteerPanel($('#dialog-steer'));
const newGraph = createNewGraphDialog($('#dialog-new'), {
  onCreated: async (slug, summary) => {
    await loadGraphList();
    $('#dialog-new').close();
    history.replaceState(null, '', `${location.pathname}?slug=${encodeURIComponent(slug)}`);
    await openGraph(slug, {});
    showMessage(`Created “${slug}”: ${summary}.`, true);
  },
});

const labelsDialog = createLabelsDialog($('#dialog-labels'), {
  onLabels: (labels) => update({ labels }, 'label'),
  onDownload: (name, text) => saveFile(name, text),
  onMessage: (text, ok) => showMessage(text, ok),
});

window.viewer = { state, update, graphPane, timings, subgraph, labelsDialog, ready: false };

subscribe((reason, patch) => {
  if (reason === 'hover') {
    graphPane.redraw();
    featurePane.render();
    return;
  }
  if (reason === 'select') {
    // a link's head loadings belong to the node it was picked from: another node (or none) unselects it
    if (patch && 'clickedId' in patch && !('selectedLink' in patch)) state.selectedLink = null;
    graphPane.redraw();
    connections.render();
    featurePane.render();
    subgraph.render();
    writeUrl();
    ensureInView();
    return;
  }
  if (reason === 'annotations' || reason === 'layout' || reason === 'label') {
    if (reason === 'annotations') scheduleScores();
    graphPane.redraw();
    connections.render();
    subgraph.render();
    if (reason === 'label') featurePane.refresh();
    writeUrl();
    scheduleSave();
    ensureInView();
    return;
  }
  if (reason === 'sg-select') {
    subgraph.render();
    $('#btn-group').disabled = state.subgraphSelection.size < 2;
    return;
  }
  if (reason === 'search' || reason === 'links') graphPane.redraw();
  if (reason === 'links') writeUrl();
  if (reason === 'save') showSaveState();
});

function setLabel(id, text) {
  const labels = { ...state.labels };
  if (text) labels[id] = text; else delete labels[id];
  update({ labels }, 'label');
}

// ---- loading -------------------------------------------------------------------------------------------------

async function loadGraphList() {
  const { graphs } = await api.graphs();
  state.graphs = graphs;
  const select = $('#graph-select');
  clear(select);
  for (const g of graphs) {
    // the index entry holds the graph's metadata, scores included (metadata.graph_scores): no graph file is read
    const sc = g.graph_scores && typeof g.graph_scores === 'object' ? g.graph_scores : null;
    const scoreText = sc && (typeof sc.replacement === 'number' || typeof sc.completeness === 'number')
      ? ` · repl. ${fmt(sc.replacement, 2)} / compl. ${fmt(sc.completeness, 2)}` : '';
    select.append(el('option', { value: g.slug, disabled: !g.available,
      dataset: sc ? { replacement: sc.replacement ?? '', completeness: sc.completeness ?? '' } : undefined,
      text: `${g.title_prefix ? `${g.title_prefix} ` : ''}${g.slug} — ${g.prompt ?? ''}${scoreText}${g.available ? '' : ' (missing)'}` }));
  }
  if (state.slug) select.value = state.slug;
}

async function openGraph(slug, url) {
  // edits waiting for the autosave belong to the graph on screen: save them there before anything else changes
  await flushSave();
  const entry = state.graphs.find((g) => g.slug === slug);
  if (!entry || !entry.available) {
    showMissing(slug, entry);
    return;
  }
  hideMissing();
  $('#graph-select').value = slug;
  const saved = await api.annotations(slug);
  // the view is fetched after state is settled, so pinned nodes can be asked for explicitly
  const first = await api.view(slug, { maxNodes: 1, maxLinks: 0 });
  const q = first.qParams || {};
  const s = saved.state || {};
  // the first value that is set; null when none is (never undefined, which would end up in the URL)
  const pick = (...vals) => { const v = vals.find((x) => x !== undefined && x !== null); return v === undefined ? null : v; };
  const pinnedFromQ = Array.isArray(q.pinnedIds) ? q.pinnedIds : typeof q.pinnedIds === 'string' ? q.pinnedIds.split(',').filter(Boolean) : [];
  const hasSaved = saved.version > 0;
  const labels = { ...saved.labels };
  const threshold = pick(url.pruningThreshold, s.pruningThreshold, numberOrNull(q.pruningThreshold), null);
  let sgLayout = {};
  try { sgLayout = s.sg_layout ? JSON.parse(s.sg_layout) : {}; } catch { sgLayout = {}; }
  let pinnedIds = pick(url.pinnedIds, hasSaved ? saved.pinnedIds : undefined, pinnedFromQ);
  let supernodes = pick(url.supernodes, hasSaved ? saved.supernodes : undefined, parseSupernodes(q.supernodes));
  if (url.subgraph) {
    const sub = (saved.subgraphs || []).find((x) => x.id === url.subgraph);
    if (sub) {
      pinnedIds = sub.pinnedIds;
      supernodes = sub.supernodes;
      Object.assign(labels, sub.labels || {});
    } else {
      showMessage(`No saved subgraph “${url.subgraph}”.`);
    }
  }
  // clerps apply to every node they name as views arrive (a view holds only part of a big graph): the graph file's
  // qParams.clerps where no saved label exists, then the URL's over everything
  savedLabelIds = new Set(Object.keys(labels));
  clerpsApplied = new Set();
  const urlClerps = url.clerps && url.clerps.length ? url.clerps : null;
  const clerpRules = [
    ...parseClerps(q.clerps).map(([key, label]) => ({ key, label, weak: true })),
    ...(urlClerps || []).map(([key, label]) => ({ key, label, weak: false })),
  ];
  state.slug = slug;
  Object.assign(state, {
    pinnedIds, supernodes, labels, sgLayout, clerpRules, urlClerps, sgSnap: s.sg_snap === true,
    selectedLink: null,
    clickedId: pick(url.clickedId, s.clickedId || null, q.clickedId || null, null),
    pruningThreshold: threshold,
    densityThreshold: pick(url.densityThreshold, s.densityThreshold, null),
    linkType: pick(url.linkType, LINK_TYPES.includes(s.linkType) ? s.linkType : null, LINK_TYPES.includes(q.linkType) ? q.linkType : null, 'either'),
    annotationsVersion: saved.version,
    savedSubgraphs: saved.subgraphs || [],
    subgraphSelection: new Set(),
    saveState: 'saved',
    saveMessage: hasSaved ? `Saved v${saved.version}` : 'Nothing saved yet',
  });
  const meta = first.metadata || {};
  document.title = `Attribution graph: ${meta.prompt ?? slug}`;
  const nodeThreshold = typeof entry.node_threshold === 'number' ? entry.node_threshold : 1;
  const slider = $('#pruning');
  slider.max = String(nodeThreshold);
  slider.value = String(state.pruningThreshold ?? nodeThreshold);
  $('#pruning-value').textContent = Number(slider.value).toFixed(2);
  $('#density').value = String(state.densityThreshold ?? 1);
  $('#density-value').textContent = Number($('#density').value).toFixed(2);
  $('#density').disabled = !(state.status && state.status.features);
  $('#link-type').value = state.linkType;
  $('#sg-snap').checked = state.sgSnap;
  renderSubgraphMenu();
  showSaveState();
  scheduleScores(0);
  await refreshView();
}

function numberOrNull(v) {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

/**
 * Label overrides (graph-format.md §6.2): a [REF] key is a feature number (every feature node with it, at any
 * position), an [NP] key a featureId `layer_feature_ctx` or a node id (one node). Each node is labelled once, when
 * it first arrives in a view, so a label edited afterwards stays edited.
 */
function clerpMatches(key, n) {
  if (/^\d+$/.test(key)) return n.kind === 'feature' && String(n.feature) === key;
  return key === n.id || key === `${n.raw.layer}_${n.feature}_${n.pos}`;
}

function applyClerps(model) {
  if (!state.clerpRules.length) return;
  let labels = null;
  for (const n of model.nodes) {
    if (clerpsApplied.has(n.id)) continue;
    clerpsApplied.add(n.id);
    for (const r of state.clerpRules) {
      if ((r.weak && savedLabelIds.has(n.id)) || !clerpMatches(r.key, n)) continue;
      labels = labels || { ...state.labels };
      labels[n.id] = r.label;
    }
  }
  if (labels) state.labels = labels;
}

/** An unknown (or unavailable) slug: say so, and offer the graphs that exist instead of showing another one. */
function showMissing(slug, entry) {
  state.slug = null;
  const select = $('#graph-select');
  let placeholder = select.querySelector('option.missing');
  if (!placeholder) {
    placeholder = el('option', { class: 'missing', value: '', disabled: true });
    select.prepend(placeholder);
  }
  placeholder.textContent = `${slug} (missing)`;
  select.value = '';
  const available = state.graphs.filter((g) => g.available);
  $('#missing-message').textContent = entry
    ? `The graph “${slug}” is listed in graph-metadata.json, but its file ${slug}.json is missing.`
    : `There is no graph “${slug}” in this directory.`;
  $('#missing-message').append(available.length ? ' Open one of these instead:' : ' This directory has no graphs yet.');
  const list = clear($('#missing-list'));
  for (const g of available) {
    list.append(el('li', {}, el('button', { type: 'button', class: 'link', dataset: { slug: g.slug }, text: g.slug,
      title: g.prompt || '', onclick: () => switchGraph(g.slug) })));
  }
  $('#missing').hidden = false;
  document.title = `No graph “${slug}”`;
  window.viewer.ready = true;
  document.body.dataset.ready = 'true';
}

function hideMissing() {
  $('#missing').hidden = true;
  const placeholder = $('#graph-select option.missing');
  if (placeholder) placeholder.remove();
}

function switchGraph(slug) {
  history.replaceState(null, '', `${location.pathname}?slug=${encodeURIComponent(slug)}`);
  return openGraph(slug, {});
}

function keepIds() {
  const ids = new Set(state.pinnedIds);
  state.supernodes.forEach((g) => g.slice(1).forEach((id) => ids.add(id)));
  if (state.clickedId) ids.add(state.clickedId);
  return [...ids];
}

async function refreshView() {
  const seq = ++viewSeq;
  const t0 = performance.now();
  $('#view-status').textContent = 'Loading…';
  let view;
  try {
    view = await api.view(state.slug, {
      pruningThreshold: state.pruningThreshold, densityThreshold: state.densityThreshold,
      keep: keepIds().join(','), maxNodes: $('#max-nodes').value,
    });
  } catch (e) {
    showMessage(e.message);
    $('#view-status').textContent = '';
    return;
  }
  if (seq !== viewSeq) return;
  dropUnknownIds((view.view && view.view.unknownKeep) || []);
  const t1 = performance.now();
  const model = buildModel(view);
  applyClerps(model);
  // thousands of faint links hide more than they show: start large graphs with only the emphasised links
  if (state.view === null || state.view.metadata?.slug !== view.metadata?.slug) {
    state.showAllLinks = view.links.length <= 4000;
    $('#all-links').checked = state.showAllLinks;
  }
  const t2 = performance.now();
  update({ view, model, searchHits: searchNodes(model, state.search) }, 'view');
  graphPane.render();
  connections.render();
  featurePane.refresh();
  subgraph.render();
  writeUrl();
  const t3 = performance.now();
  Object.assign(timings, { fetchMs: t1 - t0, modelMs: t2 - t1, renderMs: t3 - t2, drawMs: graphPane.lastRenderMs });
  const v = view.view || {};
  const parts = [`${v.nodes} of ${v.totalNodes} nodes, ${v.links} of ${v.totalLinks} links`];
  if (v.nodesCapped) parts.push(`${v.nodesCapped} least influential left out (node cap)`);
  if (v.linksCapped) parts.push(`${v.linksCapped} weakest links left out`);
  if (v.hiddenByDensity) parts.push(`${v.hiddenByDensity} dense features hidden`);
  $('#view-status').textContent = parts.join(' · ');
  window.viewer.ready = true;
  document.body.dataset.ready = 'true';
  document.body.dataset.renders = String(Number(document.body.dataset.renders || 0) + 1);
}

/**
 * Pins, supernode members or a selection naming nodes the graph does not have (a stale or mistyped URL, an old
 * annotations file) would linger as invisible ghosts, saved and shared on: drop them and say which.
 */
function dropUnknownIds(unknown) {
  if (!unknown.length) return;
  const bad = new Set(unknown);
  const pins = state.pinnedIds.filter((id) => bad.has(id));
  const members = [];
  const emptied = [];
  const supernodes = [];
  for (const g of state.supernodes) {
    const kept = g.slice(1).filter((id) => { if (bad.has(id)) { members.push(id); return false; } return true; });
    if (kept.length) supernodes.push([g[0], ...kept]); else emptied.push(g[0]);
  }
  const clicked = state.clickedId && bad.has(state.clickedId) ? state.clickedId : null;
  if (!pins.length && !members.length && !clicked) return;
  const parts = [];
  if (pins.length) parts.push(`pinned ${pins.join(', ')}`);
  const memberOnly = members.filter((id) => !pins.includes(id));
  if (memberOnly.length) parts.push(`supernode members ${memberOnly.join(', ')}`);
  if (emptied.length) parts.push(`supernodes left empty ${emptied.map((x) => `“${x}”`).join(', ')}`);
  if (clicked && !pins.includes(clicked) && !members.includes(clicked)) parts.push(`selection ${clicked}`);
  state.dropped = { pinnedIds: pins, members, supernodes: emptied, clickedId: clicked };
  Object.assign(state, { pinnedIds: state.pinnedIds.filter((id) => !bad.has(id)), supernodes,
    clickedId: clicked ? null : state.clickedId });
  showMessage(`Not in graph “${state.slug}”, so dropped: ${parts.join('; ')}.`);
  // the URL is rewritten after this view; the annotations file is corrected by the next save
  scheduleScores(0);
}

function ensureInView() {
  if (!state.model) return;
  if (keepIds().some((id) => !state.model.byId.has(id))) scheduleView(0);
}

function scheduleView(delay = 250) {
  clearTimeout(viewTimer);
  viewTimer = setTimeout(refreshView, delay);
}

// ---- scores ------------------------------------------------------------------------------------------------------
// Computed on the server (GraphFileScores), so pinning stays instant however big the graph is.

let scoresTimer = 0;
let scoresSeq = 0;

/** The nodes of the pinned subgraph: pinned ids and supernode members. */
function pinnedNodeIds() {
  const ids = new Set(state.pinnedIds);
  state.supernodes.forEach((g) => g.slice(1).forEach((id) => ids.add(id)));
  return [...ids];
}

function scheduleScores(delay = 200) {
  clearTimeout(scoresTimer);
  scoresTimer = setTimeout(refreshScores, delay);
}

async function refreshScores() {
  const seq = ++scoresSeq;
  const slug = state.slug;
  if (!slug) return;
  const pinned = pinnedNodeIds();
  let scores;
  // the request runs in the background: the page keeps answering meanwhile, and the panel says it is computing
  $('#scores').dataset.pending = 'true';
  $('#scores').classList.add('pending');
  try {
    scores = await api.scores(slug, pinned);
  } catch (e) {
    if (seq === scoresSeq) { $('#scores').textContent = ''; delete $('#scores').dataset.pending; $('#scores').classList.remove('pending'); }
    return;
  }
  if (seq !== scoresSeq || slug !== state.slug) return;
  delete $('#scores').dataset.pending;
  $('#scores').classList.remove('pending');
  window.viewer.scores = scores;
  renderScores(scores, pinned.length);
}

function renderScores(scores, pinnedCount) {
  const box = clear($('#scores'));
  const pair = (name, s, title) => el('span', { class: 'score-group', dataset: { scores: name }, title },
    `${name} `, el('b', { dataset: { score: `${name}-replacement`, value: s ? s.replacement : '' }, text: fmt(s && s.replacement, 2) }),
    ' / ', el('b', { dataset: { score: `${name}-completeness`, value: s ? s.completeness : '' }, text: fmt(s && s.completeness, 2) }));
  // the unpruned graph's scores when the exporter stored them, else the file's (what Neuronpedia shows)
  const graph = scores.graph || scores.file;
  box.append(pair('graph', graph, scores.graph
    ? `The unpruned graph's scores (metadata.graph_scores). Of this file's nodes and links: replacement ${fmt(scores.file.replacement)}, completeness ${fmt(scores.file.completeness)}.`
    : 'Computed from this file\'s nodes and links, as Neuronpedia does (the file has no metadata.graph_scores).'));
  box.append(' · ');
  if (scores.subgraph) {
    const sub = scores.subgraph;
    box.append(pair('pinned', sub, `The pinned subgraph (${sub.features} features, ${sub.errors} error nodes linked to them, every token and logit), as Neuronpedia scores subgraphs.`
      + (sub.features ? '' : ' No pinned feature: 0.')));
  } else {
    box.append(el('span', { class: 'score-group', dataset: { scores: 'pinned' }, text: pinnedCount ? 'pinned —' : 'pinned: none',
      title: 'Pin nodes to score the pinned subgraph' }));
  }
  box.prepend(el('span', { class: 'score-key', text: 'repl. / compl.: ' }));
  box.title = 'Replacement: the share of end-to-end influence that starts at tokens rather than error nodes. '
    + 'Completeness: the influence-weighted share of node inputs not from error nodes.';
}

// ---- share: copy link, downloads ---------------------------------------------------------------------------------

async function copyLink() {
  writeUrl();
  const link = location.href;
  window.viewer.lastCopied = link;
  try {
    await navigator.clipboard.writeText(link);
    showMessage('Link copied.', true);
  } catch {
    // no clipboard permission (e.g. not a secure context): show it to copy by hand
    showMessage(`Copy this link: ${link}`, true);
  }
  $('#share-menu').open = false;
}

/** Offers text as a file download (and keeps it in window.viewer.lastDownload, for tests). */
function saveFile(name, text) {
  window.viewer.lastDownload = { name, text };
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function download(subgraph) {
  if (!state.slug) return;
  const pinned = pinnedNodeIds();
  if (subgraph && !pinned.length) { showMessage('Pin nodes first: the subgraph is the pinned nodes.'); return; }
  try {
    const json = await api.exportGraph(state.slug, {
      subgraph, pinnedIds: state.pinnedIds, supernodes: state.supernodes, labels: state.labels,
      linkType: state.linkType, clickedId: state.clickedId || '',
    });
    saveFile(`${json.metadata.slug}.json`, JSON.stringify(json));
    $('#share-menu').open = false;
  } catch (e) {
    showMessage(e.message);
  }
}

// ---- saving --------------------------------------------------------------------------------------------------

function scheduleSave(delay = 600) {
  if (state.saveState === 'conflict' || !state.slug) return;
  update({ saveState: 'dirty', saveMessage: 'Unsaved changes' }, 'save');
  clearTimeout(saveTimer);
  saveTimer = setTimeout(saveNow, delay);
}

/** Saves now; a save already in flight saves once more at its end if something changed meanwhile. */
function saveNow() {
  clearTimeout(saveTimer);
  if (saving) return saving;
  if (!state.slug || state.saveState === 'conflict') return Promise.resolve();
  saving = saveLoop(state.slug).finally(() => { saving = null; });
  return saving;
}

/** Waits for the save in flight and saves what is still unsaved, to the graph on screen. */
async function flushSave() {
  clearTimeout(saveTimer);
  if (saving) await saving;
  // unsaved changes, or a save that failed (not a conflict, which the banner leaves to the user): try once more
  if (state.slug && (state.saveState === 'dirty' || state.saveState === 'error')) await saveNow();
}

async function saveLoop(slug) {
  for (;;) {
    update({ saveState: 'saving', saveMessage: 'Saving…' }, 'save');
    try {
      const out = await api.saveAnnotations(slug, {
        baseVersion: state.annotationsVersion,
        labels: state.labels,
        pinnedIds: state.pinnedIds,
        supernodes: state.supernodes,
        state: {
          clickedId: state.clickedId, pruningThreshold: state.pruningThreshold,
          densityThreshold: state.densityThreshold, linkType: state.linkType,
          sg_layout: JSON.stringify(state.sgLayout), sg_snap: state.sgSnap,
        },
        subgraphs: state.savedSubgraphs,
      });
      if (state.slug !== slug) return; // flushSave runs before a switch, so this only guards against surprises
      state.annotationsVersion = out.version;
      if (state.saveState === 'dirty') continue; // changed while saving: save again, from the new version
      // the URL's label overrides are saved now: the annotations carry them from here on
      if (state.urlClerps) { state.urlClerps = null; writeUrl(); }
      update({ saveState: 'saved', saveMessage: `Saved v${out.version}` }, 'save');
      return;
    } catch (e) {
      if (state.slug !== slug) return;
      if (e.status === 409) {
        update({ saveState: 'conflict', saveMessage: e.message }, 'save');
      } else {
        update({ saveState: 'error', saveMessage: `Not saved: ${e.message}` }, 'save');
      }
      return;
    }
  }
}

function showSaveState() {
  const box = $('#save-state');
  box.dataset.state = state.saveState;
  box.textContent = state.saveState === 'conflict' ? 'Conflict' : state.saveMessage;
  box.title = state.saveMessage;
  $('#conflict').hidden = state.saveState !== 'conflict';
  $('#conflict-message').textContent = state.saveState === 'conflict' ? state.saveMessage : '';
}

// ---- subgraphs menu ----------------------------------------------------------------------------------------------

function renderSubgraphMenu() {
  const list = $('#subgraph-list');
  clear(list);
  if (!state.savedSubgraphs.length) list.append(el('li', { class: 'muted', text: 'No saved subgraphs yet.' }));
  for (const s of state.savedSubgraphs) {
    const item = el('li', { class: 'sg-saved', dataset: { id: s.id } });
    const openButton = el('button', { type: 'button', class: 'link sg-open', text: `${s.name} (${s.pinnedIds.length} nodes)`,
      title: `Saved ${s.savedAt || ''}`,
      onclick: () => {
        update({ pinnedIds: s.pinnedIds, supernodes: s.supernodes, labels: { ...state.labels, ...s.labels } }, 'annotations');
        $('#subgraph-menu').open = false;
      } });
    const rename = el('button', { type: 'button', class: 'icon sg-rename', text: '✎', title: 'Rename', 'aria-label': `Rename ${s.name}`,
      onclick: () => {
        const input = el('input', { type: 'text', class: 'sg-rename-input', value: s.name, 'aria-label': 'New name' });
        let done = false;
        const commit = () => {
          if (done) return;
          done = true;
          const name = input.value.trim();
          if (name && name !== s.name) changeSubgraphs(state.savedSubgraphs.map((x) => (x.id === s.id ? { ...x, name } : x)));
          else renderSubgraphMenu();
        };
        input.addEventListener('keydown', (e) => {
          e.stopPropagation();
          if (e.key === 'Enter') commit();
          if (e.key === 'Escape') { done = true; renderSubgraphMenu(); }
        });
        input.addEventListener('blur', commit);
        openButton.replaceWith(input);
        input.focus();
        input.select();
      } });
    const remove = el('button', { type: 'button', class: 'icon sg-delete', text: '×', title: 'Delete', 'aria-label': `Delete ${s.name}`,
      onclick: () => {
        changeSubgraphs(state.savedSubgraphs.filter((x) => x.id !== s.id));
        showMessage(`Deleted subgraph “${s.name}”.`, true);
      } });
    item.append(openButton, rename, remove);
    list.append(item);
  }
}

/** Replaces the saved subgraphs (renamed or deleted) and saves them with the annotations. */
function changeSubgraphs(subgraphs) {
  state.savedSubgraphs = subgraphs;
  renderSubgraphMenu();
  scheduleSave(0);
}

async function saveSubgraph() {
  const name = $('#subgraph-name').value.trim();
  if (!name) { $('#subgraph-name').focus(); return; }
  try {
    const labels = Object.fromEntries(Object.entries(state.labels).filter(([id]) => state.pinnedIds.includes(id)));
    const out = await api.addSubgraph(state.slug, { name, pinnedIds: state.pinnedIds, supernodes: state.supernodes, labels });
    const { subgraphs } = await api.subgraphs(state.slug);
    // only adopt the new version when nothing else was saved in between; otherwise the next save reports the conflict
    if (out.version === state.annotationsVersion + 1) state.annotationsVersion = out.version;
    state.savedSubgraphs = subgraphs;
    $('#subgraph-name').value = '';
    renderSubgraphMenu();
    showMessage(`Saved subgraph “${name}”.`, true);
  } catch (e) {
    showMessage(e.message);
  }
}

// ---- chrome ------------------------------------------------------------------------------------------------------

function showMessage(text, ok) {
  const box = $('#message');
  box.textContent = text;
  box.className = ok ? 'ok' : 'error';
  box.hidden = false;
  clearTimeout(showMessage.timer);
  showMessage.timer = setTimeout(() => { box.hidden = true; }, ok ? 2500 : 8000);
}

function buildHelp() {
  const table = $('#shortcut-table');
  for (const [key, what] of SHORTCUTS) table.append(el('tr', {}, el('td', {}, el('kbd', { text: key })), el('td', { text: what })));
}

function step(direction) {
  const n = state.model && state.clickedId && state.model.byId.get(state.clickedId);
  if (!n) return;
  const links = direction < 0 ? n.inputs : n.outputs;
  if (!links.length) return;
  const best = links.reduce((a, b) => (Math.abs(b.pct) > Math.abs(a.pct) ? b : a));
  update({ clickedId: (direction < 0 ? best.source : best.target).id }, 'select');
}

function wire() {
  $('#graph-select').addEventListener('change', (e) => { if (e.target.value) switchGraph(e.target.value); });
  $('#pruning').addEventListener('input', (e) => {
    $('#pruning-value').textContent = Number(e.target.value).toFixed(2);
    state.pruningThreshold = Number(e.target.value);
    writeUrl();
    scheduleView(300);
    scheduleSave(1500);
  });
  $('#density').addEventListener('input', (e) => {
    $('#density-value').textContent = Number(e.target.value).toFixed(2);
    state.densityThreshold = Number(e.target.value) >= 1 ? null : Number(e.target.value);
    writeUrl();
    scheduleView(300);
    scheduleSave(1500);
  });
  $('#max-nodes').addEventListener('change', () => scheduleView(0));
  $('#link-type').addEventListener('change', (e) => { update({ linkType: e.target.value }, 'links'); scheduleSave(1500); });
  $('#all-links').addEventListener('change', (e) => update({ showAllLinks: e.target.checked }, 'links'));
  let searchTimer = 0;
  let searchIndex = -1;
  $('#search').addEventListener('input', (e) => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      searchIndex = -1;
      const hits = searchNodes(state.model, e.target.value);
      update({ search: e.target.value, searchHits: hits }, 'search');
      $('#search-count').textContent = e.target.value ? `${hits.size} found` : '';
    }, 150);
  });
  $('#search').addEventListener('keydown', (e) => {
    e.stopPropagation();
    if (e.key === 'Enter') {
      const hits = [...searchNodes(state.model, e.target.value)];
      if (!hits.length) return;
      searchIndex = (searchIndex + 1) % hits.length;
      update({ clickedId: hits[searchIndex] }, 'select');
    }
    if (e.key === 'Escape') e.target.blur();
  });
  $('#btn-save').addEventListener('click', saveNow);
  $('#btn-group').addEventListener('click', () => subgraph.groupSelection());
  $('#btn-arrange').addEventListener('click', () => subgraph.arrange());
  $('#sg-snap').addEventListener('change', (e) => update({ sgSnap: e.target.checked }, 'layout'));
  $('#btn-clear-pins').addEventListener('click', () => update({ pinnedIds: [], supernodes: [] }, 'annotations'));
  $('#btn-steer').addEventListener('click', () => steer.open());
  $('#btn-steer-2').addEventListener('click', () => steer.open());
  $('#btn-new').addEventListener('click', () => newGraph.open());
  // dropdowns of the top bar: fixed on the viewport under their button, right edges aligned, kept on screen
  document.querySelectorAll('.topbar details.menu').forEach((menu) => menu.addEventListener('toggle', () => {
    if (!menu.open) return;
    const r = menu.querySelector('summary').getBoundingClientRect();
    const body = menu.querySelector('.menu-body');
    body.style.top = `${r.bottom + 4}px`;
    body.style.right = `${Math.max(4, document.documentElement.clientWidth - r.right)}px`;
  }));
  $('#btn-copy-link').addEventListener('click', copyLink);
  $('#btn-labels').addEventListener('click', () => { $('#share-menu').open = false; labelsDialog.open(); });
  $('#btn-download-graph').addEventListener('click', () => download(false));
  $('#btn-download-subgraph').addEventListener('click', () => download(true));
  $('#btn-help').addEventListener('click', () => $('#dialog-help').showModal());
  $('#btn-save-subgraph').addEventListener('click', saveSubgraph);
  $('#subgraph-name').addEventListener('keydown', (e) => { e.stopPropagation(); if (e.key === 'Enter') saveSubgraph(); });
  $('#btn-reload').addEventListener('click', () => {
    history.replaceState(null, '', `${location.pathname}?slug=${encodeURIComponent(state.slug)}`);
    location.reload();
  });
  document.querySelectorAll('dialog .close').forEach((b) => b.addEventListener('click', () => b.closest('dialog').close()));

  document.addEventListener('keydown', (e) => {
    if (e.target.closest && e.target.closest('input, textarea, select, dialog[open]') && e.key !== 'Escape') return;
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 's') { e.preventDefault(); saveNow(); return; }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    switch (e.key) {
      case '?': $('#dialog-help').open ? $('#dialog-help').close() : $('#dialog-help').showModal(); break;
      case 'Escape': update({ clickedId: null, subgraphSelection: new Set() }, 'select'); break;
      case '/': e.preventDefault(); $('#search').focus(); break;
      case 'p': case 'P': togglePin(state.clickedId); break;
      case '[': step(-1); break;
      case ']': step(1); break;
      case 'l': case 'L': { e.preventDefault(); const i = document.querySelector('#pane-feature .label-input'); if (i) i.focus(); break; }
      case 'a': case 'A': $('#all-links').checked = !state.showAllLinks; update({ showAllLinks: !state.showAllLinks }, 'links'); break;
      case '0': graphPane.resetZoom(); break;
      case 'n': case 'N': newGraph.open(); break;
      case 't': case 'T': steer.open(); break;
      case 'g': case 'G': if (!e.repeat) state.gHeld = true; break;
      default: return;
    }
  });
  document.addEventListener('keyup', (e) => {
    if (e.key === 'g' || e.key === 'G') {
      state.gHeld = false;
      if (!(e.target.closest && e.target.closest('input, textarea'))) subgraph.groupSelection();
    }
  });
  window.addEventListener('beforeunload', (e) => {
    if (state.saveState === 'dirty' || state.saveState === 'saving') { saveNow(); e.preventDefault(); }
  });
}

async function main() {
  buildHelp();
  wire();
  try {
    const [status] = await Promise.all([api.status(), loadGraphList()]);
    state.status = status;
    // a local dictionary's scan is its directory's absolute path: show its last name, the whole path on hover
    const dictionary = status.model ? status.model.dictionary : '';
    const shortDictionary = dictionary.startsWith('/') ? dictionary.split('/').filter(Boolean).pop() || dictionary
      : dictionary;
    $('#model-name').textContent = status.model ? `${status.model.model} + ${shortDictionary}` : 'no model loaded';
    $('#model-name').title = status.model ? `${status.model.model} + ${dictionary}` : '';
    $('#link-global').hidden = !status.featuresAcrossGraphs;
    $('#btn-new').disabled = !status.model;
    $('#btn-steer').disabled = !status.model;
    const url = readUrl();
    const slug = url.slug || (state.graphs.find((g) => g.available) || {}).slug;
    if (!slug) {
      showMessage('This graph directory has no graphs yet.' + (status.model ? ' Create one with “New graph”.' : ''));
      window.viewer.ready = true;
      document.body.dataset.ready = 'true';
      return;
    }
    await openGraph(slug, url);
  } catch (e) {
    showMessage(e.message);
  }
}

main();
