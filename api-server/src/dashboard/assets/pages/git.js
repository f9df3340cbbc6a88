// The git side of a project: its GitHub repository (connect the App, pick a repository), a
// credential for another git host (HTTPS token or a generated deploy key), and its pull
// requests with their previews, where a fork's build waits for the owner's approval. Also the
// page GitHub sends a user back to after installing the App.

import { ApiError, get, post, put } from '../api.js';
import { h, replace, table } from '../dom.js';
import { paths } from '../endpoints.js';
import { busy, fact, field, messageSlot, notice, showPage } from '../layout.js';
import { href, navigate } from '../router.js';
import { externalLink } from './projects.js';

/**
 * @typedef {import('../server-types').Project} Project
 * @typedef {import('@platform/contracts').PullRequest} PullRequest
 */

/** `/github/setup?installation_id=…&code=…`: GitHub's redirect after the App is installed. */
export async function githubSetupPage() {
  const query = new URLSearchParams(location.search);
  const installationId = Number(query.get('installation_id'));
  const code = query.get('code') ?? '';
  const main = h('div', {}, h('p', { class: 'muted', text: 'Connecting the GitHub App…' }));
  showPage('GitHub App', h('h1', { text: 'GitHub App' }), main);
  if (!Number.isInteger(installationId) || installationId <= 0 || !code) {
    replace(main, notice('error', 'GitHub did not send an installation and a sign-in code: install the App again from a project page.'));
    return;
  }
  try {
    const { installation } = await post(paths.githubInstallations, { installationId, code });
    replace(
      main,
      notice('success', `Connected the installation on ${installation.accountLogin}.`),
      h('p', {}, h('a', { href: href('/'), text: 'Back to projects' }), ': pick a repository on a project page.'),
    );
  } catch (err) {
    replace(main, notice('error', /** @type {Error} */ (err).message));
  }
}

/** @param {Project} project */
export function gitSection(project) {
  const message = messageSlot();
  const repository = h('div', {});
  const credentials = h('div', {});
  const pulls = h('div', {});
  const section = h(
    'section',
    { class: 'card', attrs: { 'aria-labelledby': 'git-title' } },
    h('h2', { id: 'git-title', text: 'Git' }),
    message.element,
    h('h3', { text: 'GitHub repository' }),
    repository,
    h('h3', { text: 'Pull requests' }),
    pulls,
    h('h3', { text: 'Credentials for another git host' }),
    credentials,
  );
  const refreshPulls = () => renderPullRequests(project, pulls, message);
  void renderRepository(project, repository, message);
  void refreshPulls();
  renderCredentials(project, credentials, message);
  return { element: section, refreshPulls };
}

/** The linked repository, or the App's install link and a picker over the user's installations. */
async function renderRepository(/** @type {Project} */ project, /** @type {HTMLElement} */ slot, /** @type {ReturnType<typeof messageSlot>} */ message) {
  try {
    const [{ github }, app] = await Promise.all([get(paths.projectGithub(project.id)), get(paths.githubApp)]);
    if (github) {
      replace(slot, h('dl', { class: 'facts' }, fact('Repository', github.fullName, true), fact('Installation', String(github.installationId), true)));
      return;
    }
    if (!app.configured || !app.installUrl) {
      replace(slot, h('p', { class: 'muted', text: 'No GitHub App is configured on this platform; pushes reach the project through its webhook.' }));
      return;
    }
    const { installations } = await get(paths.githubInstallations);
    const install = h('a', { class: 'button', href: app.installUrl, text: 'Connect the GitHub App' });
    if (installations.length === 0) {
      replace(slot, h('p', {}, install, ' then come back to pick a repository.'));
      return;
    }
    const picker = h('select', { name: 'repository' }, h('option', { value: '', text: 'Loading repositories…' }));
    const link = h('button', { type: 'button', text: 'Use this repository' });
    replace(slot, field('Repository', picker), link, ' ', install);
    const options = [];
    for (const installation of installations) {
      for (const repo of (await get(paths.githubRepositories(installation.id))).repositories) {
        options.push(h('option', { value: `${installation.id}:${repo.id}`, text: `${repo.fullName}${repo.private ? ' (private)' : ''}` }));
      }
    }
    replace(picker, ...(options.length ? options : [h('option', { value: '', text: 'No repositories in your installations' })]));
    link.addEventListener('click', () =>
      busy(link, message, async () => {
        const [installationId, repositoryId] = picker.value.split(':').map(Number);
        if (!installationId || !repositoryId) throw new ApiError(400, 'invalid', 'pick a repository first');
        await put(paths.projectGithub(project.id), { installationId, repositoryId });
        message.show('success', 'Linked: pushes and pull requests of this repository now build here.');
        await renderRepository(project, slot, message);
      }),
    );
  } catch (err) {
    replace(slot, notice('error', /** @type {Error} */ (err).message));
  }
}

/** Pull requests: the preview alias, the GitHub link, and Approve for a fork's waiting build. */
async function renderPullRequests(/** @type {Project} */ project, /** @type {HTMLElement} */ slot, /** @type {ReturnType<typeof messageSlot>} */ message) {
  try {
    const { pullRequests } = await get(paths.pullRequests(project.id));
    if (pullRequests.length === 0) {
      replace(slot, h('p', { class: 'muted', text: 'No pull requests yet.' }));
      return;
    }
    const rows = pullRequests.map((/** @type {PullRequest} */ pr) => {
      const approve = h('button', { type: 'button', text: 'Approve build', attrs: { 'aria-label': `Approve build of pull request #${pr.number}` } });
      approve.addEventListener('click', () =>
        busy(approve, message, async () => {
          const { deployment } = await post(paths.approvePullRequest(project.id, pr.number));
          navigate(`/deployments/${encodeURIComponent(deployment.id)}`);
        }),
      );
      const cells = [
        pr.url ? h('a', { href: pr.url, rel: 'noopener noreferrer', target: '_blank', text: `#${pr.number} ${pr.title}` }) : `#${pr.number} ${pr.title}`,
        h('span', { class: 'mono', text: pr.branch }),
        pr.fork ? 'fork' : 'branch',
        pr.state,
        pr.state === 'open' ? externalLink(pr.aliasUrl) : '—',
        pr.awaitingApproval ? h('span', {}, `waiting for approval (${pr.awaitingApproval.slice(0, 7)}) `, approve) : '—',
      ];
      return h(
        'tr',
        {},
        cells.map((cell) => h('td', {}, cell)),
      );
    });
    replace(slot, table('pulls', ['Pull request', 'Branch', 'From', 'State', 'Preview', 'Fork build'], rows, 'Pull requests'));
  } catch (err) {
    replace(slot, notice('error', /** @type {Error} */ (err).message));
  }
}

/** An HTTPS token, or a generated deploy key whose public half is shown to paste into the host. */
function renderCredentials(/** @type {Project} */ project, /** @type {HTMLElement} */ slot, /** @type {ReturnType<typeof messageSlot>} */ message) {
  const token = h('input', { name: 'git-token', type: 'password', autocomplete: 'off', maxLength: 4096 });
  const save = h('button', { type: 'button', text: 'Save token' });
  const generate = h('button', { type: 'button', text: 'Generate deploy key' });
  const shown = h('div', {});
  save.addEventListener('click', () =>
    busy(save, message, async () => {
      await put(paths.gitCredentials(project.id), { kind: 'https-token', token: token.value.trim() });
      token.value = '';
      message.show('success', 'HTTPS token saved (encrypted; builds clone with it).');
    }),
  );
  generate.addEventListener('click', () =>
    busy(generate, message, async () => {
      const { credentials } = await put(paths.gitCredentials(project.id), { kind: 'ssh-key' });
      replace(
        shown,
        h('p', { text: 'Add this public key to the repository as a read-only deploy key:' }),
        h('pre', { class: 'mono public-key', text: credentials.publicKey ?? '' }),
      );
    }),
  );
  replace(slot, field('HTTPS token', token, 'Sent as HTTP basic auth by the clone only; never shown again.'), save, ' ', generate, shown);
}
