// A project: its deployments (status, branch, commit, age, duration, URL; redeploy, cancel,
// promote or roll back), a deploy form, env vars, deploy hooks and notification webhooks.

import { del, get, post } from '../api.js';
import { deploymentActions } from '../deployment-actions.js';
import { domainsSection } from '../domains.js';
import { age, duration, h, replace, statusBadge, table } from '../dom.js';
import { paths } from '../endpoints.js';
import { listSection } from '../list-section.js';
import { busy, fact, field, messageSlot, notice, showPage } from '../layout.js';
import { href } from '../router.js';
import { isRunning } from '../statuses.js';
import { gitSection } from './git.js';
import { externalLink } from './projects.js';

/**
 * @typedef {import('../server-types').Project} Project
 * @typedef {import('../server-types').Deployment} Deployment
 * @typedef {import('../server-types').EnvTarget} EnvTarget
 * @typedef {ReturnType<typeof messageSlot>} MessageSlot
 */

/** @param {{ id: string }} params */
export async function projectPage({ id }) {
  const main = h('div', {}, h('p', { class: 'muted', text: 'Loading…' }));
  showPage('Project', main);
  /** @type {Project} */
  let project;
  try {
    ({ project } = await get(paths.project(id)));
  } catch (err) {
    replace(main, h('h1', { text: 'Project' }), notice('error', /** @type {Error} */ (err).message));
    return;
  }
  const message = messageSlot();
  const deployments = deploymentsSection(project, message);
  showPage(
    project.name,
    h(
      'div',
      { class: 'page-head' },
      h('div', {}, h('h1', { text: project.name }), h('p', { class: 'muted' }, 'Production: ', externalLink(project.url))),
      h(
        'nav',
        { class: 'actions', attrs: { 'aria-label': 'Project' } },
        h('a', { class: 'button', href: href(`/projects/${encodeURIComponent(project.id)}/analytics`), text: 'Analytics' }),
        h('a', { class: 'button', href: href(`/projects/${encodeURIComponent(project.id)}/settings`), text: 'Settings' }),
      ),
    ),
    h('dl', { class: 'facts' }, fact('Repository', project.gitUrl, true), fact('Production branch', project.productionBranch, true)),
    message.element,
    deployForm(project, message, deployments.refresh),
    deployments.element,
    domainsSection(project),
    envVarsSection(project),
    gitSection(project).element,
    deployHooksSection(project),
    notificationsSection(project),
  );
  await deployments.refresh();
  // The list refreshes itself: every 2 s while a build is queued or running (statuses change
  // under it), every 10 s otherwise (a push or a deploy hook may start one).
  let ticks = 0;
  const timer = setInterval(() => {
    ticks += 1;
    if (deployments.hasRunning() || ticks % 5 === 0) void deployments.refresh();
  }, 2000);
  return () => clearInterval(timer);
}

/** @param {Project} project @param {MessageSlot} message @param {() => Promise<void>} refresh */
function deployForm(project, message, refresh) {
  const ref = h('input', { name: 'ref', placeholder: project.productionBranch, maxLength: 255 });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Deploy' });
  return h(
    'form',
    {
      class: 'inline-form',
      attrs: { 'aria-label': 'Deploy a branch' },
      onSubmit: (e) => {
        e.preventDefault();
        void busy(submit, message, async () => {
          const body = ref.value.trim() ? { projectId: project.id, ref: ref.value.trim() } : { projectId: project.id };
          const { deployment } = await post(paths.deploy, body);
          message.show('success', `Deployment ${deployment.id} queued.`);
          await refresh();
        });
      },
    },
    field('Branch or tag', ref, `Empty: the production branch (${project.productionBranch}).`),
    submit,
  );
}

/** @param {Project} project @param {MessageSlot} message */
function deploymentsSection(project, message) {
  const body = h('div', {}, h('p', { class: 'muted', text: 'Loading deployments…' }));
  /** @type {Deployment[]} */
  let rows = [];
  let loading = false;
  // How many of the newest deployments to show; "Show older" raises it (the API pages at 100).
  let shown = 20;
  const more = h('button', { type: 'button', text: 'Show older deployments', hidden: true });
  more.addEventListener('click', () => {
    shown = Math.min(100, shown + 20);
    void refresh();
  });
  const moreNote = h('p', { class: 'muted', hidden: true, text: 'The 100 newest deployments are shown.' });
  const element = h(
    'section',
    { class: 'card', attrs: { 'aria-labelledby': 'deployments-title' } },
    h('h2', { id: 'deployments-title', text: 'Deployments' }),
    body,
    more,
    moreNote,
  );

  async function refresh() {
    if (loading) return;
    loading = true;
    try {
      const reply = await get(paths.deployments(project.id, { limit: String(shown) }));
      rows = reply.deployments;
      more.hidden = !reply.next || shown >= 100;
      moreNote.hidden = !reply.next || shown < 100;
      // Keep keyboard focus on the same action across a refresh.
      const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.focusKey : undefined;
      // Promote and roll back move the production alias: ask the project where it points now.
      const current = (await get(paths.project(project.id))).project.productionDeploymentId ?? null;
      replace(body, deploymentsTable(rows, current, { message, refresh }));
      if (focused) /** @type {HTMLElement | null} */ (body.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`))?.focus();
    } catch (err) {
      replace(body, notice('error', /** @type {Error} */ (err).message));
    } finally {
      loading = false;
    }
  }

  return { element, refresh, hasRunning: () => rows.some((d) => isRunning(d.status)) };
}

/**
 * What a row's actions report to and refresh.
 * @typedef {{ message: MessageSlot, refresh: () => Promise<void> }} RowContext
 */

/** @param {Deployment[]} list @param {string | null} currentId @param {RowContext} context */
function deploymentsTable(list, currentId, context) {
  if (list.length === 0) return h('p', { class: 'muted', text: 'No deployments yet.' });
  const columns = ['Status', 'Deployment', 'Branch', 'Commit', 'Age', 'Duration', 'URL', 'Actions'];
  return table(
    'table deployments',
    columns,
    list.map((d) => deploymentRow(d, d.id === currentId, context)),
  );
}

/** @param {Deployment} d @param {boolean} isCurrent @param {RowContext} context */
function deploymentRow(d, isCurrent, context) {
  return h(
    'tr',
    { dataset: { deploymentId: d.id, status: d.status } },
    h('td', {}, statusBadge(d.status)),
    h(
      'td',
      {},
      h('a', { href: href(`/deployments/${encodeURIComponent(d.id)}`), class: 'mono', text: d.id.slice(0, 10) }),
      ' ',
      h('span', { class: `target target-${d.target}`, text: d.target === 'production' ? 'Production' : 'Preview' }),
      isCurrent ? h('span', { class: 'current', text: 'Current', title: 'Served at the production URL' }) : null,
    ),
    h('td', { class: 'mono', text: d.ref ?? '—' }),
    h('td', { class: 'mono', text: d.commit ? d.commit.slice(0, 7) : '—', title: d.commit ?? '' }),
    h('td', { text: age(d.createdAt), title: d.createdAt }),
    h('td', { text: duration(d.startedAt, d.finishedAt) }),
    h('td', {}, d.status === 'READY' ? externalLink(d.url) : h('span', { class: 'muted', text: '—' })),
    h('td', {}, h('div', { class: 'row-actions' }, deploymentActions(d, { ...context, promote: promoteLabel(d, isCurrent), inRow: true }))),
  );
}

/**
 * A ready deployment that production does not serve can become production: a preview is
 * promoted, an earlier production build is rolled back to.
 * @param {Deployment} d @param {boolean} isCurrent
 */
function promoteLabel(d, isCurrent) {
  if (isCurrent) return null;
  return d.target === 'production' ? 'Roll back' : 'Promote';
}

/** @param {Project} project */
function envVarsSection(project) {
  const message = messageSlot();
  const key = h('input', { name: 'key', required: true, maxLength: 256, pattern: '[A-Za-z_][A-Za-z0-9_]*', placeholder: 'API_URL', autocomplete: 'off' });
  const value = h('input', { name: 'value', type: 'password', maxLength: 32768, autocomplete: 'off' });
  const production = h('input', { type: 'checkbox', checked: true });
  const preview = h('input', { type: 'checkbox', checked: true });
  return listSection({
    titleId: 'env-title',
    title: 'Environment variables',
    intro: [h('p', { class: 'muted', text: 'Values are encrypted and never shown again after saving.' })],
    empty: 'No environment variables. Builds see only the ones you add here.',
    load: async () => (await get(paths.envVars(project.id))).envVars,
    list: (rows) => table('table', ['Key', 'Target', 'Updated', ''], rows),
    row: (v, remove) =>
      h('tr', {}, h('td', { class: 'mono', text: v.key }), h('td', { text: v.target }), h('td', { text: age(v.updatedAt) }), h('td', {}, remove)),
    remove: {
      text: 'Remove',
      label: (v) => `Remove ${v.key} (${v.target})`,
      confirm: (v) => `Remove ${v.key} from ${v.target} builds?`,
      run: (v) => del(paths.envVar(project.id, v.id)),
    },
    form: {
      label: 'Add an environment variable',
      fields: [
        field('Key', key),
        field('Value', value),
        h('fieldset', { class: 'targets' }, h('legend', { text: 'Targets' }), h('label', {}, production, ' Production'), h('label', {}, preview, ' Preview')),
      ],
      submit: 'Add variable',
      create: async () => {
        /** @type {EnvTarget[]} */
        const targets = [];
        if (production.checked) targets.push('production');
        if (preview.checked) targets.push('preview');
        if (targets.length === 0) throw new Error('Pick at least one target.');
        await post(paths.envVars(project.id), { key: key.value.trim(), value: value.value, targets });
        key.value = '';
        value.value = '';
        return 'Saved. It applies to the next deployment.';
      },
    },
    message,
  }).element;
}

/** @param {Project} project */
function deployHooksSection(project) {
  const name = h('input', { name: 'name', required: true, maxLength: 100, placeholder: 'CMS publish' });
  const branch = h('input', { name: 'branch', required: true, maxLength: 255, value: project.productionBranch });
  return listSection({
    titleId: 'hooks-title',
    title: 'Deploy hooks',
    empty: 'No deploy hooks. A hook is a secret URL that deploys a branch when it receives a POST.',
    load: async () => (await get(paths.deployHooks(project.id))).hooks,
    list: (rows) => h('ul', { class: 'plain-list' }, rows),
    row: (hook, remove) => h('li', {}, h('strong', { text: hook.name }), ' → ', h('span', { class: 'mono', text: hook.branch }), ' ', remove),
    remove: {
      text: 'Delete',
      label: (hook) => `Delete hook ${hook.name}`,
      confirm: (hook) => `Delete the deploy hook "${hook.name}"? Its URL stops working.`,
      run: (hook) => del(paths.deployHook(project.id, hook.id)),
    },
    form: {
      label: 'Create a deploy hook',
      fields: [field('Name', name), field('Branch', branch)],
      submit: 'Create hook',
      create: async () => {
        const reply = await post(paths.deployHooks(project.id), { name: name.value.trim(), branch: branch.value.trim() });
        name.value = '';
        return `Hook URL (shown once, keep it secret): ${new URL(reply.url, location.origin).href}`;
      },
    },
  }).element;
}

/** Incoming (GitHub pushes) and outgoing (deployment events) webhooks, one card. @param {Project} project */
function notificationsSection(project) {
  const message = messageSlot();
  const github = h('div', {});
  const url = h('input', { name: 'url', type: 'url', required: true, maxLength: 2048, placeholder: 'https://example.com/hooks/deploys' });
  void githubWebhook(project, github, message);
  return listSection({
    titleId: 'webhooks-title',
    title: 'Webhooks',
    intro: [h('h3', { text: 'Incoming: deploy on git push' }), github, h('h3', { text: 'Outgoing: deployment events' })],
    empty: 'No outgoing webhooks. Each receives a signed POST on deployment events.',
    load: async () => (await get(paths.notifications(project.id))).endpoints,
    list: (rows) => h('ul', { class: 'plain-list' }, rows),
    row: (ep, remove) =>
      h(
        'li',
        {},
        h('span', { class: 'mono', text: ep.url }),
        ' ',
        h('span', { class: 'muted', text: ep.events.length ? ep.events.join(', ') : 'all events' }),
        ' ',
        remove,
      ),
    remove: {
      text: 'Delete',
      label: (ep) => `Delete webhook ${ep.url}`,
      confirm: (ep) => `Stop sending events to ${ep.url}?`,
      run: (ep) => del(paths.notification(project.id, ep.id)),
    },
    form: {
      label: 'Add an outgoing webhook',
      fields: [field('Endpoint URL', url)],
      submit: 'Add webhook',
      create: async () => {
        const reply = await post(paths.notifications(project.id), { url: url.value.trim() });
        url.value = '';
        return `Signing secret (shown once): ${reply.secret}`;
      },
    },
    message,
  }).element;
}

/**
 * Where GitHub sends pushes, the secret it signs them with (shown once: after the project was
 * created, or a new one), and the deliveries received.
 * @param {Project} project @param {HTMLElement} slot @param {MessageSlot} message
 */
async function githubWebhook(project, slot, message) {
  const url = new URL(`/webhooks/github?projectId=${encodeURIComponent(project.id)}`, location.origin).href;
  const secretSlot = h('div', {});
  const showSecret = (/** @type {string} */ secret) =>
    replace(
      secretSlot,
      notice('success', 'Webhook secret (shown once; paste it into the repository settings now):'),
      h('code', { class: 'mono secret', text: secret }),
    );
  const regenerate = h('button', { type: 'button', text: 'Generate a new secret' });
  regenerate.addEventListener('click', () => {
    if (!confirm('Generate a new webhook secret? Deliveries signed with the old one will be refused.')) return;
    void busy(regenerate, message, async () => {
      const reply = await post(paths.githubWebhookSecret(project.id));
      showSecret(reply.githubWebhook.secret);
    });
  });
  // The projects page stashed it when it created the project: this is its one showing.
  const stashed = sessionStorage.getItem(`platform.githubWebhook.${project.id}`);
  if (stashed) {
    sessionStorage.removeItem(`platform.githubWebhook.${project.id}`);
    try {
      showSecret(JSON.parse(stashed).secret);
    } catch {
      /* ignore a damaged entry */
    }
  }
  const deliveries = h('div', {});
  replace(
    slot,
    h(
      'p',
      {},
      'In the repository: Settings → Webhooks → Add webhook, content type ',
      h('code', { text: 'application/json' }),
      ', push events, this payload URL:',
    ),
    h('p', {}, h('code', { class: 'mono', text: url })),
    secretSlot,
    regenerate,
    deliveries,
  );
  try {
    replace(deliveries, deliveriesTable((await get(paths.githubDeliveries(project.id))).deliveries));
  } catch (err) {
    replace(deliveries, notice('error', /** @type {Error} */ (err).message));
  }
}

/** The ten newest deliveries. @param {import('../server-types').GithubDelivery[]} list */
function deliveriesTable(list) {
  if (list.length === 0) return h('p', { class: 'muted', text: 'No deliveries received yet.' });
  const rows = list
    .slice(0, 10)
    .map((d) =>
      h(
        'tr',
        {},
        h('td', { text: age(d.receivedAt), title: d.receivedAt }),
        h('td', { class: 'mono', text: d.event }),
        h('td', { text: d.detail ? `${d.outcome}: ${d.detail}` : d.outcome }),
        h(
          'td',
          {},
          d.deploymentId ? h('a', { href: href(`/deployments/${encodeURIComponent(d.deploymentId)}`), class: 'mono', text: d.deploymentId.slice(0, 10) }) : '—',
        ),
      ),
    );
  return table('table', ['Received', 'Event', 'Outcome', 'Deployment'], rows, 'Recent deliveries');
}
