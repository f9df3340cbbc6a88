// One deployment: its facts, actions, and the live build log.

import { get } from '../api.js';
import { deploymentActions } from '../deployment-actions.js';
import { age, duration, h, replace, statusBadge } from '../dom.js';
import { paths } from '../endpoints.js';
import { fact, messageSlot, notice, showPage } from '../layout.js';
import { LogViewer } from '../log-viewer.js';
import { href } from '../router.js';
import { isRunning, rank } from '../statuses.js';
import { externalLink } from './projects.js';

/**
 * @typedef {import('../server-types').Deployment} Deployment
 * @typedef {import('../server-types').Project} Project
 */

/** @param {{ id: string }} params */
export async function deploymentPage({ id }) {
  showPage('Deployment', h('p', { class: 'muted', text: 'Loading…' }));
  /** @type {Deployment} */
  let deployment;
  /** @type {Project | null} */
  let project = null;
  try {
    ({ deployment } = await get(paths.deployment(id)));
    project = (await get(paths.project(deployment.projectId)).catch(() => null))?.project ?? null;
  } catch (err) {
    showPage('Deployment', h('h1', { text: 'Deployment' }), notice('error', /** @type {Error} */ (err).message));
    return;
  }
  return showDeployment(id, deployment, project);
}

/**
 * The page, kept current: the socket's status events move it at once, REST refetches fill in
 * the rest (commit, times, error message).
 * @param {string} id @param {Deployment} initial @param {Project | null} project
 * @returns {() => void} the cleanup the router calls on leaving
 */
function showDeployment(id, initial, project) {
  let deployment = initial;
  const message = messageSlot();
  const status = h('span', { class: 'status-slot', attrs: { 'aria-live': 'polite' } });
  const facts = h('dl', { class: 'facts' });
  const actions = h('div', { class: 'actions' });

  const draw = () => {
    replace(status, statusBadge(deployment.status));
    replace(facts, ...factsOf(deployment));
    replace(actions, ...deploymentActions(deployment, { message, refresh: reload, promote: 'Promote to production', inRow: false }));
  };

  /** Takes a fresher copy of the deployment unless its status would go backwards. @param {Deployment} next */
  const accept = (next) => {
    if (rank(next.status) < rank(deployment.status)) return false;
    deployment = next;
    draw();
    return true;
  };

  const reload = async () => {
    try {
      accept((await get(paths.deployment(id))).deployment);
    } catch (err) {
      message.show('error', /** @type {Error} */ (err).message);
    }
  };

  const viewer = new LogViewer({
    deploymentId: id,
    onLines: () => {
      if (deployment.status === 'QUEUED') void checkStatus();
    },
    onStatus: (event) => {
      // Show the change at once; the refetch fills in commit, times and error message.
      accept({ ...deployment, status: event.status, errorMessage: event.detail ?? deployment.errorMessage });
      void reload();
    },
  });
  const checkStatus = statusChecker(
    id,
    () => deployment,
    accept,
    () => viewer.subscribe(),
  );

  const pullRequest = h('div', {});
  if (project) void showPullRequest(project.id, initial, pullRequest);
  showPage(`Deployment ${id.slice(0, 10)}`, pageHead(id, project, status, actions), facts, pullRequest, message.element, viewer.element);
  draw();
  viewer.start();
  // The duration of a running build counts up; the REST status is checked every 5 s.
  let seconds = 0;
  const tick = window.setInterval(() => {
    if (!isRunning(deployment.status)) return;
    draw();
    if (++seconds % 5 === 0) void checkStatus();
  }, 1000);
  return () => {
    clearInterval(tick);
    viewer.stop();
  };
}

/**
 * Status events older than the log already held are not replayed (the socket resumes after
 * the last seq): when lines arrive while the page still says QUEUED, or every few seconds
 * while running, the REST status fills the gap. A build the platform ended (canceled before
 * it started, or its task vanished) may send no status event at all; resubscribing then
 * makes the server close the stream with the final status.
 * @param {string} id @param {() => Deployment} current @param {(next: Deployment) => boolean} accept
 * @param {() => void} resubscribe
 */
function statusChecker(id, current, accept, resubscribe) {
  let checking = false;
  return async () => {
    if (checking) return;
    checking = true;
    try {
      const reply = await get(paths.deployment(id));
      if (reply.deployment.status === current().status) return;
      const wasRunning = isRunning(current().status);
      if (accept(reply.deployment) && wasRunning && !isRunning(current().status)) resubscribe();
    } catch {
      /* the next tick retries */
    } finally {
      checking = false;
    }
  };
}

/** @param {string} id @param {Project | null} project @param {HTMLElement} status @param {HTMLElement} actions */
function pageHead(id, project, status, actions) {
  return h(
    'div',
    { class: 'page-head' },
    h(
      'div',
      {},
      project ? h('p', { class: 'crumbs' }, h('a', { href: href(`/projects/${encodeURIComponent(project.id)}`), text: project.name }), ' / deployment') : null,
      h('h1', {}, h('span', { class: 'mono', text: id.slice(0, 10) }), ' ', status),
    ),
    actions,
  );
}

/**
 * The ignored build step said there was nothing to build: not an error.
 * @param {Deployment} deployment
 */
const skippedBuild = (deployment) => deployment.status === 'CANCELED' && (deployment.errorMessage ?? '').startsWith('skipped:');

/**
 * The pull request a preview builds (matched on its branch), with a link to it on GitHub.
 * @param {string} projectId @param {Deployment} deployment @param {HTMLElement} slot
 */
async function showPullRequest(projectId, deployment, slot) {
  if (deployment.target !== 'preview' || !deployment.ref) return;
  const { pullRequests } = await get(paths.pullRequests(projectId)).catch(() => ({ pullRequests: [] }));
  const pr = pullRequests.find((p) => p.branch === deployment.ref);
  if (!pr) return;
  const label = `#${pr.number} ${pr.title}`;
  replace(
    slot,
    h(
      'p',
      { class: 'pull-request' },
      'Pull request: ',
      pr.url ? h('a', { href: pr.url, target: '_blank', rel: 'noopener noreferrer', text: label }) : label,
      pr.fork ? ' (from a fork)' : '',
    ),
  );
}

/** @param {Deployment} deployment */
function factsOf(deployment) {
  return [
    fact('Target', deployment.target === 'production' ? 'Production' : 'Preview'),
    fact('Branch', deployment.ref ?? '—', true),
    fact('Commit', deployment.commit ? deployment.commit.slice(0, 12) : '—', true),
    // Reported by the build once it has run; absent before and for plain files.
    deployment.nodeVersion ? fact('Node.js', deployment.nodeVersion, true) : null,
    fact('Created', `${age(deployment.createdAt)}`),
    fact('Duration', duration(deployment.startedAt, deployment.finishedAt) || '—'),
    h(
      'div',
      {},
      h('dt', { text: 'URL' }),
      h('dd', {}, deployment.status === 'READY' ? externalLink(deployment.url) : h('span', { class: 'mono muted', text: deployment.url })),
    ),
    deployment.errorMessage ? fact(skippedBuild(deployment) ? 'Skipped' : 'Error', deployment.errorMessage) : null,
  ];
}
