// All labels of the graph in one list: edit, delete, export as Neuronpedia's clerps ([[nodeId, label], ...]) and
// import the same (or {nodeId: label}, or the JSON text of either).

import { state, parseClerps } from './store.js';
import { el, clear } from './dom.js';

/** [[key, label], ...] from any of the accepted forms; throws when nothing can be read. */
export function readLabelFile(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`Not JSON: ${e.message}`);
  }
  if (typeof value === 'string') return readLabelFile(value);
  if (value && !Array.isArray(value) && typeof value === 'object') {
    // {nodeId: label} or an annotations file's {labels: {...}} or a graph file's qParams.clerps
    const obj = value.labels && typeof value.labels === 'object' ? value.labels
      : value.qParams && value.qParams.clerps ? null : value;
    if (obj === null) return parseClerps(value.qParams.clerps);
    return Object.entries(obj).filter(([, v]) => typeof v === 'string').map(([k, v]) => [k.trim(), v]).filter(([k]) => k);
  }
  const pairs = parseClerps(value);
  if (!pairs.length && !(Array.isArray(value) && value.length === 0)) {
    throw new Error('Expected [[nodeId, label], ...] or {nodeId: label}.');
  }
  return pairs;
}

export function createLabelsDialog(dialog, { onLabels, onDownload, onMessage }) {
  const body = dialog.querySelector('.dialog-body');

  function render() {
    clear(body);
    const entries = Object.entries(state.labels).sort(([a], [b]) => a.localeCompare(b));
    const file = el('input', { type: 'file', accept: 'application/json,.json', id: 'labels-file', hidden: true });
    file.addEventListener('change', async () => {
      const f = file.files && file.files[0];
      if (!f) return;
      importText(await f.text());
      file.value = '';
    });
    const tools = el('div', { class: 'field-row' },
      el('button', { type: 'button', id: 'labels-export', text: 'Export (JSON)', disabled: !entries.length,
        title: 'Download the labels as [[nodeId, label], ...] (Neuronpedia’s clerps form)',
        onclick: () => onDownload(`${state.slug}-labels.json`, JSON.stringify(Object.entries(state.labels), null, 1)) }),
      el('button', { type: 'button', id: 'labels-import', text: 'Import…', title: 'Add labels from a JSON file: [[nodeId, label], ...] or {nodeId: label}',
        onclick: () => file.click() }),
      file,
      el('span', { class: 'muted', text: `${entries.length} label${entries.length === 1 ? '' : 's'}` }));
    const table = el('table', { class: 'labels-table' },
      el('tr', {}, el('th', { text: 'node' }), el('th', { text: 'label' }), el('th', {})),
      entries.map(([id, label]) => {
        const input = el('input', { type: 'text', value: label, 'aria-label': `Label of ${id}`, class: 'label-edit' });
        input.addEventListener('keydown', (e) => { e.stopPropagation(); if (e.key === 'Enter') input.blur(); });
        // an emptied field keeps the label (× deletes it); edits do not redraw the list, so focus stays put
        input.addEventListener('change', () => {
          const text = input.value.trim();
          if (text) setOne(id, text, false); else input.value = state.labels[id] || label;
        });
        return el('tr', { dataset: { id } }, el('td', { class: 'mono', text: id }), el('td', {}, input),
          el('td', {}, el('button', { type: 'button', class: 'icon', text: '×', title: 'Delete the label', 'aria-label': `Delete the label of ${id}`,
            onclick: () => setOne(id, '') })));
      }));
    if (!entries.length) table.append(el('tr', {}, el('td', { colspan: 3, class: 'muted', text: 'No labels yet: label a node in the Feature pane (L), or import a file.' })));
    body.append(tools, table);
  }

  function setOne(id, text, redraw = true) {
    const labels = { ...state.labels };
    if (text) labels[id] = text; else delete labels[id];
    onLabels(labels);
    if (redraw) render();
  }

  /** Adds the file's labels: node-id keys directly, feature-number keys to every node of that feature on screen. */
  function importText(text) {
    let pairs;
    try {
      pairs = readLabelFile(text);
    } catch (e) {
      onMessage(`Cannot import labels: ${e.message}`);
      return;
    }
    const labels = { ...state.labels };
    let count = 0;
    for (const [key, label] of pairs) {
      if (/^\d+$/.test(key) && state.model) {
        for (const n of state.model.nodes) {
          if (n.kind === 'feature' && String(n.raw.feature) === key) { labels[n.id] = label; count++; }
        }
      } else {
        labels[key] = label;
        count++;
      }
    }
    onLabels(labels);
    onMessage(`Imported ${count} label${count === 1 ? '' : 's'}.`, true);
    render();
  }

  function open() {
    render();
    dialog.showModal();
  }

  return { open, importText };
}
