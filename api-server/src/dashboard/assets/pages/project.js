// A project: its deployments (status, branch, commit, age, duration, URL; redeploy, cancel,
// promote or roll back), a deploy form, env vars, deploy hooks and notification webhooks.

import { del, get, post } from '../api.js';
import { age, duration, h, replace, statusBadge } from '../dom.js';
import { paths } from '../endpoints.js';
import { busy, field, messageSlot, notice, showPage } from '../layout.js';
import { href, navigate } from '../router.js';
import { externalLink } from './projects.js';

const RUNNING = ['QUEUED', 'BUILDING'];

/** @param {{ id: string }} params */
export async function projectPage({ id }) {
  const main = h('div', {}, h('p', { class: 'muted', text: 'Loading…' }));
  showPage('Project', main);
  /** @type {any} */
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
      ),
    ),
    h('dl', { class: 'facts' }, fact('Repository', project.gitUrl, true), fact('Production branch', project.productionBranch, true)),
    message.element,
    deployForm(project, message, deployments.refresh),
    deployments.element,
    envVarsSection(project),
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

/** @param {string} label @param {string | null} value @param {boolean} [mono] */
function fact(label, value, mono = false) {
  return h('div', {}, h('dt', { text: label }), h('dd', { class: mono ? 'mono' : '', text: value ?? '—' }));
}

/** @param {any} project @param {ReturnType<typeof messageSlot>} message @param {() => Promise<void>} refresh */
function deployForm(project, message, refresh) {
  const ref = h('input', { name: 'ref', placeholder: project.productionBranch, maxLength: 255 });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Deploy' });
  return h(
    'form',
    {
      class: 'inline-form',
      attrs: { 'aria-label': 'Deploy a branch' },
      onSubmit: (/** @type {SubmitEvent} */ e) => {
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

/** @param {any} project @param {ReturnType<typeof messageSlot>} message */
function deploymentsSection(project, message) {
  const body = h('div', {}, h('p', { class: 'muted', text: 'Loading deployments…' }));
  /** @type {any[]} */
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
  const element = h('section', { class: 'card', attrs: { 'aria-labelledby': 'deployments-title' } }, h('h2', { id: 'deployments-title', text: 'Deployments' }), body, more, moreNote);

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
      replace(body, table(rows, current));
      if (focused) /** @type {HTMLElement | null} */ (body.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`))?.focus();
    } catch (err) {
      replace(body, notice('error', /** @type {Error} */ (err).message));
    } finally {
      loading = false;
    }
  }

  /** @param {any[]} list @param {string | null} currentId */
  function table(list, currentId) {
    if (list.length === 0) return h('p', { class: 'muted', text: 'No deployments yet.' });
    const current = currentId;
    return h(
      'table',
      { class: 'table deployments' },
      h('thead', {}, h('tr', {}, ['Status', 'Deployment', 'Branch', 'Commit', 'Age', 'Duration', 'URL', 'Actions'].map((t) => h('th', { scope: 'col', text: t })))),
      h(
        'tbody',
        {},
        list.map((d) =>
          h(
            'tr',
            { dataset: { deploymentId: d.id, status: d.status } },
            h('td', {}, statusBadge(d.status)),
            h(
              'td',
              {},
              h('a', { href: href(`/deployments/${encodeURIComponent(d.id)}`), class: 'mono', text: d.id.slice(0, 10) }),
              ' ',
              h('span', { class: `target target-${d.target}`, text: d.target === 'production' ? 'Production' : 'Preview' }),
              d.id === current ? h('span', { class: 'current', text: 'Current', title: 'Served at the production URL' }) : null,
            ),
            h('td', { class: 'mono', text: d.ref ?? '—' }),
            h('td', { class: 'mono', text: d.commit ? d.commit.slice(0, 7) : '—', title: d.commit ?? '' }),
            h('td', { text: age(d.createdAt), title: d.createdAt }),
            h('td', { text: duration(d.startedAt, d.finishedAt) }),
            h('td', {}, d.status === 'READY' ? externalLink(d.url) : h('span', { class: 'muted', text: '—' })),
            h('td', {}, h('div', { class: 'row-actions' }, actions(d, d.id === current))),
          ),
        ),
      ),
    );
  }

  /** @param {any} d @param {boolean} isCurrent */
  function actions(d, isCurrent) {
    /** @param {string} label @param {string} key @param {string} confirmText @param {() => Promise<any>} run */
    const action = (label, key, confirmText, run) => {
      const button = h('button', {
        type: 'button',
        text: label,
        dataset: { focusKey: `${key}:${d.id}`, action: key },
        attrs: { 'aria-label': `${label} ${d.id}` },
        onClick: () => {
          if (confirmText && !confirm(confirmText)) return;
          void busy(/** @type {HTMLButtonElement} */ (button), message, async () => {
            const reply = await run();
            message.show('success', `${label}: done.`);
            if (reply?.deployment?.id && reply.deployment.id !== d.id) navigate(`/deployments/${encodeURIComponent(reply.deployment.id)}`);
            else await refresh();
          });
        },
      });
      return button;
    };
    const list = [];
    if (RUNNING.includes(d.status)) list.push(action('Cancel', 'cancel', '', () => post(paths.cancel(d.id))));
    if (d.status === 'READY' && !isCurrent) {
      list.push(action(d.target === 'production' ? 'Roll back' : 'Promote', 'promote', '', () => post(paths.promote(d.id))));
    }
    if (!RUNNING.includes(d.status)) list.push(action('Redeploy', 'redeploy', '', () => post(paths.redeploy(d.id), { useBuildCache: true })));
    return list;
  }

  return {
    element,
    refresh,
    hasRunning: () => rows.some((d) => RUNNING.includes(d.status)),
  };
}

/** @param {any} project */
function envVarsSection(project) {
  const list = h('div', {});
  const message = messageSlot();
  const key = h('input', { name: 'key', required: true, maxLength: 256, pattern: '[A-Za-z_][A-Za-z0-9_]*', placeholder: 'API_URL', autocomplete: 'off' });
  const value = h('input', { name: 'value', type: 'password', maxLength: 32768, autocomplete: 'off' });
  const production = h('input', { type: 'checkbox', checked: true });
  const preview = h('input', { type: 'checkbox', checked: true });
  const submit = h('button', { type: 'submit', text: 'Add variable' });

  async function load() {
    try {
      const reply = await get(paths.envVars(project.id));
      const vars = reply.envVars ?? reply.env ?? [];
      replace(
        list,
        vars.length === 0
          ? h('p', { class: 'muted', text: 'No environment variables. Builds see only the ones you add here.' })
          : h(
              'table',
              { class: 'table' },
              h('thead', {}, h('tr', {}, ['Key', 'Target', 'Updated', ''].map((t) => h('th', { scope: 'col', text: t })))),
              h(
                'tbody',
                {},
                vars.map((/** @type {any} */ v) => {
                  const remove = h('button', { type: 'button', text: 'Remove', attrs: { 'aria-label': `Remove ${v.key} (${v.target})` } });
                  remove.addEventListener('click', () => {
                    if (!confirm(`Remove ${v.key} from ${v.target} builds?`)) return;
                    void busy(/** @type {HTMLButtonElement} */ (remove), message, async () => {
                      await del(paths.envVar(project.id, v.id));
                      await load();
                    });
                  });
                  return h('tr', {}, h('td', { class: 'mono', text: v.key }), h('td', { text: v.target }), h('td', { text: age(v.updatedAt) }), h('td', {}, remove));
                }),
              ),
            ),
      );
    } catch (err) {
      replace(list, notice('error', /** @type {Error} */ (err).message));
    }
  }
  void load();

  return h(
    'section',
    { class: 'card', attrs: { 'aria-labelledby': 'env-title' } },
    h('h2', { id: 'env-title', text: 'Environment variables' }),
    h('p', { class: 'muted', text: 'Values are encrypted and never shown again after saving.' }),
    list,
    h(
      'form',
      {
        class: 'inline-form',
        attrs: { 'aria-label': 'Add an environment variable' },
        onSubmit: (/** @type {SubmitEvent} */ e) => {
          e.preventDefault();
          const targets = [production.checked && 'production', preview.checked && 'preview'].filter(Boolean);
          if (targets.length === 0) return message.show('error', 'Pick at least one target.');
          void busy(submit, message, async () => {
            await post(paths.envVars(project.id), { key: key.value.trim(), value: value.value, targets });
            key.value = '';
            value.value = '';
            message.show('success', 'Saved. It applies to the next deployment.');
            await load();
          });
        },
      },
      field('Key', key),
      field('Value', value),
      h('fieldset', { class: 'targets' }, h('legend', { text: 'Targets' }), h('label', {}, production, ' Production'), h('label', {}, preview, ' Preview')),
      submit,
    ),
    message.element,
  );
}

/** @param {any} project */
function deployHooksSection(project) {
  const list = h('div', {});
  const message = messageSlot();
  const name = h('input', { name: 'name', required: true, maxLength: 100, placeholder: 'CMS publish' });
  const branch = h('input', { name: 'branch', required: true, maxLength: 255, value: project.productionBranch });
  const submit = h('button', { type: 'submit', text: 'Create hook' });

  async function load() {
    try {
      const { hooks: deployHooks = [] } = await get(paths.deployHooks(project.id));
      replace(
        list,
        deployHooks.length === 0
          ? h('p', { class: 'muted', text: 'No deploy hooks. A hook is a secret URL that deploys a branch when it receives a POST.' })
          : h(
              'ul',
              { class: 'plain-list' },
              deployHooks.map((/** @type {any} */ hook) => {
                const remove = h('button', { type: 'button', text: 'Delete', attrs: { 'aria-label': `Delete hook ${hook.name}` } });
                remove.addEventListener('click', () => {
                  if (!confirm(`Delete the deploy hook "${hook.name}"? Its URL stops working.`)) return;
                  void busy(/** @type {HTMLButtonElement} */ (remove), message, async () => {
                    await del(paths.deployHook(project.id, hook.id));
                    await load();
                  });
                });
                return h('li', {}, h('strong', { text: hook.name }), ' → ', h('span', { class: 'mono', text: hook.branch }), ' ', remove);
              }),
            ),
      );
    } catch (err) {
      replace(list, notice('error', /** @type {Error} */ (err).message));
    }
  }
  void load();

  return h(
    'section',
    { class: 'card', attrs: { 'aria-labelledby': 'hooks-title' } },
    h('h2', { id: 'hooks-title', text: 'Deploy hooks' }),
    list,
    h(
      'form',
      {
        class: 'inline-form',
        attrs: { 'aria-label': 'Create a deploy hook' },
        onSubmit: (/** @type {SubmitEvent} */ e) => {
          e.preventDefault();
          void busy(submit, message, async () => {
            const reply = await post(paths.deployHooks(project.id), { name: name.value.trim(), branch: branch.value.trim() });
            name.value = '';
            await load();
            const url = reply.url;
            if (url) message.show('success', `Hook URL (shown once, keep it secret): ${new URL(url, location.origin).href}`);
          });
        },
      },
      field('Name', name),
      field('Branch', branch),
      submit,
    ),
    message.element,
  );
}

/** @param {any} project */
function notificationsSection(project) {
  const list = h('div', {});
  const github = h('div', {});
  const message = messageSlot();
  const url = h('input', { name: 'url', type: 'url', required: true, maxLength: 2048, placeholder: 'https://example.com/hooks/deploys' });
  const submit = h('button', { type: 'submit', text: 'Add webhook' });

  async function load() {
    try {
      const reply = await get(paths.notifications(project.id));
      const endpoints = reply.endpoints ?? reply.notificationEndpoints ?? [];
      replace(
        list,
        endpoints.length === 0
          ? h('p', { class: 'muted', text: 'No outgoing webhooks. Each receives a signed POST on deployment events.' })
          : h(
              'ul',
              { class: 'plain-list' },
              endpoints.map((/** @type {any} */ ep) => {
                const remove = h('button', { type: 'button', text: 'Delete', attrs: { 'aria-label': `Delete webhook ${ep.url}` } });
                remove.addEventListener('click', () => {
                  if (!confirm(`Stop sending events to ${ep.url}?`)) return;
                  void busy(/** @type {HTMLButtonElement} */ (remove), message, async () => {
                    await del(paths.notification(project.id, ep.id));
                    await load();
                  });
                });
                return h('li', {}, h('span', { class: 'mono', text: ep.url }), ' ', h('span', { class: 'muted', text: ep.events.length ? ep.events.join(', ') : 'all events' }), ' ', remove);
              }),
            ),
      );
    } catch (err) {
      replace(list, notice('error', /** @type {Error} */ (err).message));
    }
  }
  async function loadGithub() {
    const url = new URL(`/webhooks/github?projectId=${encodeURIComponent(project.id)}`, location.origin).href;
    const regenerate = h('button', { type: 'button', text: 'Generate a new secret' });
    regenerate.addEventListener('click', () => {
      if (!confirm('Generate a new webhook secret? Deliveries signed with the old one will be refused.')) return;
      void busy(/** @type {HTMLButtonElement} */ (regenerate), message, async () => {
        const reply = await post(paths.githubWebhookSecret(project.id));
        showSecret(reply.githubWebhook.secret);
      });
    });
    const secretSlot = h('div', {});
    const showSecret = (/** @type {string} */ secret) =>
      replace(secretSlot, notice('success', 'Webhook secret (shown once; paste it into the repository settings now):'), h('code', { class: 'mono secret', text: secret }));
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
      github,
      h('p', {}, 'In the repository: Settings → Webhooks → Add webhook, content type ', h('code', { text: 'application/json' }), ', push events, this payload URL:'),
      h('p', {}, h('code', { class: 'mono', text: url })),
      secretSlot,
      regenerate,
      deliveries,
    );
    try {
      const reply = await get(paths.githubDeliveries(project.id));
      const list = reply.deliveries ?? [];
      replace(
        deliveries,
        list.length === 0
          ? h('p', { class: 'muted', text: 'No deliveries received yet.' })
          : h(
              'table',
              { class: 'table' },
              h('caption', { text: 'Recent deliveries' }),
              h('thead', {}, h('tr', {}, ['Received', 'Event', 'Outcome', 'Deployment'].map((t) => h('th', { scope: 'col', text: t })))),
              h(
                'tbody',
                {},
                list.slice(0, 10).map((/** @type {any} */ d) =>
                  h(
                    'tr',
                    {},
                    h('td', { text: age(d.receivedAt), title: d.receivedAt }),
                    h('td', { class: 'mono', text: d.event }),
                    h('td', { text: d.detail ? `${d.outcome}: ${d.detail}` : d.outcome }),
                    h('td', {}, d.deploymentId ? h('a', { href: href(`/deployments/${encodeURIComponent(d.deploymentId)}`), class: 'mono', text: d.deploymentId.slice(0, 10) }) : '—'),
                  ),
                ),
              ),
            ),
      );
    } catch (err) {
      replace(deliveries, notice('error', /** @type {Error} */ (err).message));
    }
  }
  void load();
  void loadGithub();

  return h(
    'section',
    { class: 'card', attrs: { 'aria-labelledby': 'webhooks-title' } },
    h('h2', { id: 'webhooks-title', text: 'Webhooks' }),
    h('h3', { text: 'Incoming: deploy on git push' }),
    github,
    h('h3', { text: 'Outgoing: deployment events' }),
    list,
    h(
      'form',
      {
        class: 'inline-form',
        attrs: { 'aria-label': 'Add an outgoing webhook' },
        onSubmit: (/** @type {SubmitEvent} */ e) => {
          e.preventDefault();
          void busy(submit, message, async () => {
            const reply = await post(paths.notifications(project.id), { url: url.value.trim() });
            url.value = '';
            await load();
            const secret = reply.secret ?? reply.endpoint?.secret;
            if (secret) message.show('success', `Signing secret (shown once): ${secret}`);
          });
        },
      },
      field('Endpoint URL', url),
      submit,
    ),
    message.element,
  );
}
