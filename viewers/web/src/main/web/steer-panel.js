// Steering: interventions from the pinned features and supernodes, steered and unsteered generations side by side.

import { state } from './store.js';
import { api } from './api.js';
import { displayLabel, featureName } from './model.js';
import { el, clear, fmt } from './dom.js';

export function createSteerPanel(dialog) {
  const body = dialog.querySelector('.dialog-body');

  function targets() {
    const m = state.model;
    if (!m) return [];
    const out = [];
    const grouped = new Set();
    for (const g of state.supernodes) {
      const feats = g.slice(1).filter((id) => m.byId.get(id)?.kind === 'feature');
      g.slice(1).forEach((id) => grouped.add(id));
      if (feats.length) out.push({ name: `${g[0]} (supernode, ${feats.length} features)`, ids: feats });
    }
    for (const id of state.pinnedIds) {
      const n = m.byId.get(id);
      if (n && n.kind === 'feature' && !grouped.has(id)) out.push({ name: displayLabel(n) || featureName(n), ids: [id] });
    }
    return out;
  }

  function open() {
    clear(body);
    if (!state.status || !state.status.model) {
      body.append(el('p', { class: 'error', text: 'This server runs without a model, so it cannot steer. Start it with a model and transcoders.' }));
      dialog.showModal();
      return;
    }
    const list = targets();
    if (!list.length) {
      body.append(el('p', { class: 'hint', text: 'Pin feature nodes (Ctrl/⌘-click) or build supernodes first: they become the interventions.' }));
      dialog.showModal();
      return;
    }
    const m = state.model;
    const rows = list.map((t) => {
      // where each intervention acts: the token position(s) of its features
      const positions = [...new Set(t.ids.map((id) => m.byId.get(id)?.pos).filter((p) => p !== undefined))].sort((a, b) => a - b);
      const where = el('span', { class: 'steer-pos muted', title: 'Token position of the intervention (“also at generated positions” extends it)',
        text: positions.map((p) => `@${p} ${JSON.stringify(m.tokens[p] ?? '')}`).join(', ') });
      const use = el('input', { type: 'checkbox', checked: true, 'aria-label': `Use ${t.name}` });
      const mode = el('select', { 'aria-label': 'Mode' }, el('option', { value: 'scale', text: 'scale ×' }), el('option', { value: 'set', text: 'set to' }));
      const value = el('input', { type: 'number', step: '0.5', value: '-2', class: 'num', 'aria-label': 'Value' });
      const error = el('div', { class: 'field-error', role: 'alert', hidden: true });
      value.addEventListener('input', () => { value.removeAttribute('aria-invalid'); error.hidden = true; });
      return { t, use, mode, value, error,
        row: el('div', { class: 'steer-row' }, use, el('span', { class: 'steer-name' }, t.name, ' ', where), mode, value, error) };
    });
    const ablate = el('button', { type: 'button', id: 'steer-ablate', text: 'Ablate all', title: 'Preset: set every chosen feature to 0',
      onclick: () => rows.forEach((r) => { r.mode.value = 'set'; r.value.value = '0'; r.value.removeAttribute('aria-invalid'); r.error.hidden = true; }) });
    const amplify = el('button', { type: 'button', id: 'steer-amplify', text: 'Scale ×2', title: 'Preset: double every chosen feature',
      onclick: () => rows.forEach((r) => { r.mode.value = 'scale'; r.value.value = '2'; r.value.removeAttribute('aria-invalid'); r.error.hidden = true; }) });
    const maxNew = el('input', { type: 'number', min: 1, max: 256, value: 12, class: 'num', name: 'maxNewTokens' });
    const temperature = el('input', { type: 'number', min: 0, step: '0.1', value: 0, class: 'num', name: 'temperature' });
    const freeze = el('input', { type: 'checkbox', checked: true, name: 'freezeAttention' });
    const openEnded = el('input', { type: 'checkbox', name: 'openEnded' });
    const results = el('div', { class: 'steer-results' });
    const run = el('button', { class: 'primary', type: 'button', text: 'Run', id: 'steer-run' });
    run.addEventListener('click', async () => {
      // Number('') is 0 and Number('1e309') is Infinity (sent as null): either would silently ablate, so refuse them
      let invalid = null;
      for (const r of rows) {
        const problem = r.use.checked ? valueProblem(r.value) : null;
        r.error.hidden = !problem;
        r.error.textContent = problem || '';
        if (problem) { r.value.setAttribute('aria-invalid', 'true'); invalid = invalid || r.value; } else r.value.removeAttribute('aria-invalid');
      }
      if (invalid) {
        clear(results).append(el('p', { class: 'error', text: 'Not run: fix the marked values first.' }));
        invalid.focus();
        return;
      }
      const interventions = rows.filter((r) => r.use.checked).flatMap((r) => r.t.ids.map((id) => ({
        nodeId: id, mode: r.mode.value, value: Number(r.value.value.trim()), openEnded: openEnded.checked,
      })));
      run.disabled = true;
      clear(results).append(el('p', { class: 'muted', text: 'Generating…' }));
      try {
        const out = await api.steer(state.slug, {
          interventions, maxNewTokens: Number(maxNew.value), temperature: Number(temperature.value),
          freezeAttention: freeze.checked, topK: 10,
        });
        showResults(results, out);
      } catch (e) {
        clear(results).append(el('p', { class: 'error', text: e.message }));
      } finally {
        run.disabled = false;
      }
    });
    body.append(el('div', { class: 'field-row steer-presets' }, el('span', { class: 'muted', text: 'Presets:' }), ablate, amplify),
      el('div', { class: 'steer-rows' }, rows.map((r) => r.row)),
      el('div', { class: 'steer-options' },
        el('label', {}, 'New tokens ', maxNew), el('label', {}, 'Temperature ', temperature),
        el('label', {}, freeze, ' freeze attention'), el('label', {}, openEnded, ' also at generated positions'), run),
      results);
    dialog.showModal();
  }

  /** Why a value field cannot be used, or null. */
  function valueProblem(input) {
    const raw = input.value.trim();
    if (input.validity && input.validity.badInput) return 'Not a number: enter a finite value such as -2 or 0.5.';
    if (raw === '') return 'Enter a value (an empty field is not 0: use 0 to ablate).';
    if (!Number.isFinite(Number(raw))) return `“${raw}” is not a finite number: enter a value such as -2 or 0.5.`;
    return null;
  }

  const pct = (p) => (p === null || p === undefined ? '—' : `${(100 * p).toFixed(p < 0.001 ? 3 : 1)}%`);
  const signed = (x, f) => `${x >= 0 ? '+' : '−'}${f(Math.abs(x))}`;

  /**
   * The graph's target at the first new token, unsteered → steered, as the server computed it from the whole
   * vocabulary (exact whatever its rank): a token's probability and logit, or a logit difference's value.
   */
  function targetLine(t) {
    const before = t.unsteered;
    const after = t.steered;
    if (t.kind === 'difference') {
      const change = after.logit - before.logit;
      return el('p', { class: 'steer-target', dataset: { kind: 'difference', before: before.logit, after: after.logit } },
        'Target logit diff ', el('b', { text: JSON.stringify(t.label) }), ' at the first new token: ',
        el('span', { class: 'p-before', text: fmt(before.logit, 3) }), ' unsteered → ',
        el('span', { class: 'p-after', text: fmt(after.logit, 3) }), ' steered',
        el('span', { class: change < 0 ? 'down' : 'up', text: ` (${signed(change, (v) => v.toFixed(3))})` }));
    }
    const change = before.probability !== null && after.probability !== null ? after.probability - before.probability : null;
    return el('p', { class: 'steer-target', dataset: { kind: 'token', before: before.probability ?? '', after: after.probability ?? '',
      logitBefore: before.logit, logitAfter: after.logit } },
      'Target ', el('b', { text: JSON.stringify(t.label) }), ' at the first new token: ',
      el('span', { class: 'p-before', text: pct(before.probability) }), ' unsteered → ',
      el('span', { class: 'p-after', text: pct(after.probability) }), ' steered',
      change === null ? '' : el('span', { class: change < 0 ? 'down' : 'up', text: ` (${signed(change, pct)})` }),
      el('span', { class: 'muted', text: ` · logit ${fmt(before.logit, 2)} → ${fmt(after.logit, 2)}` }));
  }

  function showResults(box, out) {
    clear(box);
    if (out.target) box.append(targetLine(out.target));
    const column = (title, run, other) => el('div', { class: 'steer-col', dataset: { run: title.toLowerCase() } },
      el('h3', { text: title }),
      el('p', { class: 'steer-text' }, el('span', { class: 'prompt-part', text: run.text.slice(0, run.text.length - run.continuation.length) }),
        el('span', { class: 'continuation', text: run.continuation })),
      el('table', { class: 'steps' }, el('tr', {}, el('th', { text: '#' }), el('th', { text: 'token' }), el('th', { text: 'top candidates (logit, probability)' })),
        run.steps.map((s, i) => el('tr', { class: other.steps[i] && other.steps[i].tokenId !== s.tokenId ? 'differs' : '' },
          el('td', { text: i + 1 }), el('td', { class: 'tok-cell', text: JSON.stringify(s.token) }),
          el('td', { text: s.candidates.map((c) => `${JSON.stringify(c.token)} ${fmt(c.logit, 2)}`
            + (c.probability === null || c.probability === undefined ? '' : ` (${pct(c.probability)})`)).join('  ') })))));
    box.append(el('div', { class: 'side-by-side' }, column('Unsteered', out.unsteered, out.steered), column('Steered', out.steered, out.unsteered)));
  }

  return { open };
}
