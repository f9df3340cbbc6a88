// A project's settings: general and build settings (PATCH /projects/:id), retention (PATCH
// /projects/:id/retention), storage usage, and deleting the project after typing its name.
//
// Each settings card is a list of field descriptions, so a new setting is one more entry in
// `GENERAL`, `BUILD` or `RETENTION` (or a new card in `settingsCards`), not new form code.

import { del, get, patch } from '../api.js';
import { bytes, h } from '../dom.js';
import { paths } from '../endpoints.js';
import { busy, fact, field, messageSlot, notice, showPage } from '../layout.js';
import { href, navigate } from '../router.js';

/**
 * One field of a settings card. `kind` picks the input; `nullable`: an empty field sends
 * null (the server's default or detection applies). `read` takes the current value from
 * what the card loaded.
 * @template T
 * @typedef {{ key: string, label: string, kind: 'text' | 'number' | 'checkbox', hint?: string, nullable?: boolean,
 *   read: (from: T) => string | number | boolean | null, placeholder?: (from: T) => string, scale?: number }} SettingField
 */

/** @type {SettingField<import('../server-types').Project>[]} */
const GENERAL = [
  { key: 'name', label: 'Name', kind: 'text', read: (p) => p.name },
  { key: 'productionBranch', label: 'Production branch', kind: 'text', read: (p) => p.productionBranch, hint: 'Pushes to it deploy to production.' },
];

/** @type {SettingField<import('../server-types').Project>[]} */
const BUILD = [
  { key: 'rootDirectory', label: 'Root directory', kind: 'text', nullable: true, read: (p) => p.rootDirectory, hint: 'Empty: the repository root.' },
  { key: 'installCommand', label: 'Install command', kind: 'text', nullable: true, read: (p) => p.installCommand, hint: 'Empty: detected.' },
  { key: 'buildCommand', label: 'Build command', kind: 'text', nullable: true, read: (p) => p.buildCommand, hint: 'Empty: detected.' },
  { key: 'outputDirectory', label: 'Output directory', kind: 'text', nullable: true, read: (p) => p.outputDirectory, hint: 'Empty: detected.' },
  { key: 'spa', label: 'Single-page app (unknown paths serve index.html)', kind: 'checkbox', read: (p) => p.spa },
];

const MB = 1024 ** 2;

/** @type {SettingField<import('../server-types').Retention>[]} */
const RETENTION = [
  {
    key: 'keepPerBranch',
    label: 'READY deployments kept per branch',
    kind: 'number',
    nullable: true,
    read: (r) => r.project.keepPerBranch,
    placeholder: (r) => `default ${r.defaults.keepPerBranch}`,
  },
  {
    key: 'keepRollback',
    label: 'Earlier production deployments kept for rollback',
    kind: 'number',
    nullable: true,
    read: (r) => r.project.keepRollback,
    placeholder: (r) => `default ${r.defaults.keepRollback}`,
  },
  {
    key: 'failedAfterDays',
    label: 'Days failed and canceled deployments are kept',
    kind: 'number',
    nullable: true,
    read: (r) => r.project.failedAfterDays,
    placeholder: (r) => `default ${r.defaults.failedAfterDays}`,
  },
  {
    key: 'buildCacheCapBytes',
    label: 'Build cache cap (MB)',
    kind: 'number',
    nullable: true,
    scale: MB,
    read: (r) => r.project.buildCacheCapBytes,
    placeholder: (r) => `default ${Math.round(r.defaults.buildCacheCapBytes / MB)}`,
    hint: 'Least recently used caches go first.',
  },
];

/** @param {{ id: string }} params */
export async function projectSettingsPage({ id }) {
  showPage('Settings', h('p', { class: 'muted', text: 'Loading…' }));
  /** @type {import('../server-types').Project} */
  let project;
  /** @type {import('../server-types').Retention} */
  let retention;
  try {
    [{ project }, { retention }] = await Promise.all([get(paths.project(id)), get(paths.retention(id))]);
  } catch (err) {
    showPage('Settings', h('h1', { text: 'Settings' }), notice('error', /** @type {Error} */ (err).message));
    return;
  }
  const projectUrl = href(`/projects/${encodeURIComponent(project.id)}`);
  // The project as last saved: a rename changes what the delete confirmation asks for.
  const state = { project };
  showPage(
    `${project.name} · Settings`,
    h('div', { class: 'page-head' }, h('div', {}, h('h1', { text: 'Settings' }), h('p', { class: 'muted' }, h('a', { href: projectUrl, text: project.name })))),
    ...settingsCards(state, retention),
    usageCard(project),
    deleteCard(state),
  );
}

/**
 * The cards of editable settings, in page order; another feature's card goes here.
 * @param {{ project: import('../server-types').Project }} state @param {import('../server-types').Retention} retention
 */
function settingsCards(state, retention) {
  const id = state.project.id;
  const saveProject = async (/** @type {Record<string, unknown>} */ body) => {
    state.project = (await patch(paths.project(id), body)).project;
    return state.project;
  };
  const saveRetention = async (/** @type {Record<string, unknown>} */ body) => (await patch(paths.retention(id), body)).retention;
  return [
    settingsCard('General', GENERAL, state.project, saveProject),
    settingsCard('Build', BUILD, state.project, saveProject),
    settingsCard('Retention', RETENTION, retention, saveRetention, 'Deployments an alias or domain serves are always kept.'),
  ];
}

/**
 * A card with one input per field and a Save button that sends what changed.
 * @template T
 * @param {string} title @param {SettingField<T>[]} fields @param {T} current
 * @param {(body: Record<string, unknown>) => Promise<T>} save @param {string} [intro]
 */
function settingsCard(title, fields, current, save, intro) {
  const message = messageSlot();
  const inputs = fields.map((f) => ({ f, input: inputFor(f, current) }));
  const submit = h('button', { type: 'submit', text: `Save ${title.toLowerCase()}` });
  return h(
    'section',
    { class: 'card', attrs: { 'aria-label': title } },
    h('h2', { text: title }),
    intro ? h('p', { class: 'muted', text: intro }) : null,
    h(
      'form',
      {
        class: 'settings-form',
        onSubmit: (e) => {
          e.preventDefault();
          void busy(submit, message, async () => {
            /** @type {Record<string, unknown>} */
            const body = {};
            for (const { f, input } of inputs) {
              const value = submittedValue(f, input);
              if (value !== f.read(current)) body[f.key] = value;
            }
            if (Object.keys(body).length === 0) return message.show('info', 'Nothing changed.');
            current = await save(body);
            message.show('success', `${title} saved.`);
          });
        },
      },
      ...inputs.map(({ f, input }) => (f.kind === 'checkbox' ? h('label', { class: 'checkbox' }, input, ` ${f.label}`) : field(f.label, input, f.hint))),
      message.element,
      submit,
    ),
  );
}

/** @template T @param {SettingField<T>} f @param {T} current */
function inputFor(f, current) {
  const value = f.read(current);
  if (f.kind === 'checkbox') return h('input', { type: 'checkbox', checked: value === true, attrs: { 'aria-label': f.label } });
  const shown = value === null ? '' : f.scale && typeof value === 'number' ? String(Math.round(value / f.scale)) : String(value);
  return h('input', {
    type: f.kind === 'number' ? 'number' : 'text',
    value: shown,
    placeholder: f.placeholder?.(current) ?? '',
    ...(f.kind === 'number' ? { min: '0', step: '1' } : {}),
  });
}

/** What a field sends: null when a nullable field is empty, numbers scaled back, the rest as typed. @template T @param {SettingField<T>} f @param {HTMLInputElement} input */
function submittedValue(f, input) {
  if (f.kind === 'checkbox') return input.checked;
  const text = input.value.trim();
  if (text === '' && f.nullable) return null;
  if (f.kind === 'number') return Number(text) * (f.scale ?? 1);
  return text;
}

/** @param {import('../server-types').Project} project */
function usageCard(project) {
  const body = h('dl', { class: 'facts' }, h('p', { class: 'muted', text: 'Measuring…' }));
  void get(paths.usage(project.id)).then(
    ({ usage }) =>
      body.replaceChildren(
        fact('Deployments', bytes(usage.deploymentsBytes)),
        fact('Build caches', bytes(usage.buildCacheBytes)),
        fact('Logs', bytes(usage.logBytes)),
        fact('Total', `${bytes(usage.totalBytes)}${usage.quotaBytes === null ? '' : ` of ${bytes(usage.quotaBytes)}`}`),
      ),
    (/** @type {Error} */ err) => body.replaceChildren(notice('error', err.message)),
  );
  return h('section', { class: 'card', attrs: { 'aria-label': 'Storage' } }, h('h2', { text: 'Storage' }), body);
}

/** Deleting asks for the project's name first: the button stays disabled until it matches. @param {{ project: import('../server-types').Project }} state */
function deleteCard(state) {
  const message = messageSlot();
  const confirm = h('input', { type: 'text', autocomplete: 'off' });
  const button = h('button', { type: 'submit', class: 'danger', text: 'Delete project', disabled: true });
  confirm.addEventListener('input', () => {
    button.disabled = confirm.value !== state.project.name;
  });
  return h(
    'section',
    { class: 'card danger-zone', attrs: { 'aria-label': 'Delete project' } },
    h('h2', { text: 'Delete project' }),
    h('p', {
      text: 'Its hostnames stop serving at once; its deployments, build caches, logs, env vars and hooks are removed in the background. This cannot be undone.',
    }),
    h(
      'form',
      {
        onSubmit: (e) => {
          e.preventDefault();
          if (confirm.value !== state.project.name) return;
          void busy(button, message, async () => {
            await del(paths.project(state.project.id));
            navigate('/');
          });
        },
      },
      field("Type the project's name to confirm", confirm),
      message.element,
      button,
    ),
  );
}
