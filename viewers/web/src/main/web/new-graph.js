// New graph from a prompt, or from a chat that the model's own chat template turns into the prompt: the job's
// progress streams in as server-sent events and can be cancelled.

import { state } from './store.js';
import { api } from './api.js';
import { el, clear } from './dom.js';

const SLUG_MAX = 60;

/**
 * A slug of at most 60 characters that keeps the prompt's end: prompts of one template differ in their last words
 * ("…containing Miami is" vs "…containing Dallas is"), so a long slug keeps its first and last words and drops the
 * middle (cut at dashes).
 */
export function shortSlug(slug) {
  if (slug.length <= SLUG_MAX) return slug;
  const words = slug.split('-');
  let head = '';
  let tail = '';
  let i = 0;
  let j = words.length - 1;
  // the end first (up to two thirds of the room), then the beginning
  while (j > i && (tail ? tail.length + 1 : 0) + words[j].length <= (2 * SLUG_MAX) / 3) { tail = tail ? `${words[j]}-${tail}` : words[j]; j--; }
  while (i <= j && head.length + words[i].length + 1 + 2 + tail.length <= SLUG_MAX) { head = head ? `${head}-${words[i]}` : words[i]; i++; }
  if (!tail) return slug.slice(0, SLUG_MAX).replace(/-+$/g, '');
  return head ? `${head}--${tail}` : tail.slice(-SLUG_MAX);
}

/** The chat of the form: the system message when one is written, then the user's. */
export function chatMessages(system, user) {
  return [...(system.trim() ? [{ role: 'system', content: system }] : []), { role: 'user', content: user }];
}

export function createNewGraphDialog(dialog, { onCreated }) {
  const body = dialog.querySelector('.dialog-body');
  let source = null;

  function slugFrom(text) {
    return shortSlug(text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')) || 'graph';
  }

  function open() {
    clear(body);
    if (!state.status || !state.status.model) {
      body.append(el('p', { class: 'error', text: 'This server runs without a model, so it cannot create graphs. Start it with a model and transcoders.' }));
      dialog.showModal();
      return;
    }
    const prompt = el('textarea', { name: 'prompt', rows: 3, placeholder: 'The prompt to attribute', required: true });
    // a chat instead of a prompt, only where the model has a chat template (the server applies it)
    const canChat = Boolean(state.status.model.chatTemplate);
    const chatToggle = el('input', { name: 'chat', type: 'checkbox', id: 'new-chat' });
    const system = el('textarea', { name: 'system', rows: 2, placeholder: 'Optional: the system message' });
    const user = el('textarea', { name: 'user', rows: 3, placeholder: 'The user message; the model\'s turn follows it' });
    const promptField = el('label', { class: 'field' }, 'Prompt', prompt);
    const chatFields = [el('label', { class: 'field' }, 'System message', system),
      el('label', { class: 'field' }, 'User message', user)];
    const showChat = () => {
      promptField.style.display = chatToggle.checked ? 'none' : '';
      chatFields.forEach((f) => { f.style.display = chatToggle.checked ? '' : 'none'; });
    };
    chatToggle.addEventListener('change', () => { showChat(); (chatToggle.checked ? user : prompt).focus(); });
    showChat();
    const chatRow = canChat ? el('label', { class: 'field-row', title: 'Build the prompt with the model\'s chat template (turn markers and role names are added and shown dimmed in the graph)' },
      chatToggle, 'chat (the model\'s chat template)') : null;
    const slug = el('input', { name: 'slug', type: 'text', placeholder: 'graph name' });
    const targets = el('input', { name: 'targets', type: 'text', id: 'new-targets',
      placeholder: 'empty: the most likely next tokens; or Austin, #1234, Austin-Dallas',
      title: 'What to explain, comma-separated: tokens (text that is one token, or #id) or logit differences A-B (why A beats B). Not both kinds at once.' });
    targets.addEventListener('keydown', (e) => e.stopPropagation());
    const targetError = el('div', { class: 'field-error', role: 'alert', hidden: true, id: 'new-targets-error' });
    targets.addEventListener('input', () => { targets.removeAttribute('aria-invalid'); targetError.hidden = true; });
    const overwrite = el('input', { name: 'overwrite', type: 'checkbox' });
    let slugEdited = false;
    slug.addEventListener('input', () => { slugEdited = true; });
    prompt.addEventListener('input', () => { if (!slugEdited) slug.value = slugFrom(prompt.value); });
    user.addEventListener('input', () => { if (!slugEdited) slug.value = slugFrom(user.value); });
    const num = (name, value, step) => el('input', { name, type: 'number', value, step, class: 'num' });
    const maxFeatures = num('maxFeatureNodes', 7500, 1);
    const maxLogits = num('maxNLogits', 10, 1);
    const nodeT = num('nodeThreshold', 0.8, 0.01);
    const edgeT = num('edgeThreshold', 0.98, 0.01);
    const create = el('button', { class: 'primary', type: 'button', text: 'Create', id: 'create-graph' });
    const cancel = el('button', { type: 'button', text: 'Cancel job', hidden: true, id: 'cancel-graph' });
    const bar = el('progress', { max: 1, value: 0 });
    const log = el('div', { class: 'job-log', role: 'status' });
    create.addEventListener('click', async () => {
      create.disabled = true;
      clear(log);
      try {
        const chat = chatToggle.checked;
        const words = chat ? user.value : prompt.value;
        const job = await api.createGraph({
          ...(chat ? { chat: chatMessages(system.value, user.value) } : { prompt: prompt.value }),
          slug: slug.value || slugFrom(words), maxFeatureNodes: Number(maxFeatures.value),
          maxNLogits: Number(maxLogits.value), nodeThreshold: Number(nodeT.value), edgeThreshold: Number(edgeT.value),
          overwrite: overwrite.checked,
          targets: targets.value.split(',').map((t) => t.trim()).filter(Boolean),
        });
        cancel.hidden = false;
        cancel.onclick = () => api.cancelJob(job.id).catch((e) => log.append(el('div', { class: 'error', text: e.message })));
        follow(job, bar, log, () => { create.disabled = false; cancel.hidden = true; });
      } catch (e) {
        // the server checks the targets before queuing anything: show its reason at the field
        if (e.status === 400 && /^Target\b/.test(e.message)) {
          targets.setAttribute('aria-invalid', 'true');
          targetError.textContent = e.message;
          targetError.hidden = false;
          targets.focus();
        }
        log.append(el('div', { class: 'error', text: e.status === 409 && !overwrite.checked
          ? `${e.message} (Tick “overwrite” to replace it.)` : e.message }));
        create.disabled = false;
      }
    });
    body.append(...(chatRow ? [chatRow] : []), promptField, ...chatFields, el('label', { class: 'field' }, 'Target (logit or difference)', targets), targetError,
      el('label', { class: 'field' }, 'Name (slug)', slug),
      el('label', { class: 'field-row', title: 'Replace an existing graph of this name' }, overwrite, 'overwrite a graph of this name'),
      el('div', { class: 'field-row' }, el('label', {}, 'Max features ', maxFeatures), el('label', {}, 'Max logits ', maxLogits),
        el('label', {}, 'Node threshold ', nodeT), el('label', {}, 'Edge threshold ', edgeT)),
      el('div', { class: 'field-row' }, create, cancel), bar, log);
    dialog.showModal();
    prompt.focus();
  }

  function follow(job, bar, log, finished) {
    if (source) source.close();
    source = new EventSource(job.events);
    const line = (text, cls) => { log.append(el('div', { class: cls || '', text })); log.scrollTop = log.scrollHeight; };
    source.addEventListener('started', () => line('Started.'));
    source.addEventListener('phase', (e) => line(`${JSON.parse(e.data).phase.toLowerCase().replace('_', ' ')}…`));
    source.addEventListener('progress', (e) => {
      const d = JSON.parse(e.data);
      if (d.total > 0) { bar.max = d.total; bar.value = d.done; }
    });
    const end = (cls, text) => { line(text, cls); source.close(); source = null; finished(); };
    source.addEventListener('done', (e) => {
      const d = JSON.parse(e.data);
      bar.max = 1; bar.value = 1;
      (d.warnings || []).forEach((w) => line(`Warning: ${w}`, 'warning'));
      end('ok', `Done: ${d.nodes} nodes, ${d.links} links.`);
      onCreated(d.slug, `${d.nodes} nodes, ${d.links} links`);
    });
    source.addEventListener('failed', (e) => end('error', `Failed: ${JSON.parse(e.data).message}`));
    source.addEventListener('cancelled', (e) => end('muted', JSON.parse(e.data).message));
  }

  return { open };
}
