// The projects list and the "new project" form.

import { get, post } from '../api.js';
import { paths } from '../endpoints.js';
import { age, h, replace, statusBadge } from '../dom.js';
import { busy, field, messageSlot, notice, showPage } from '../layout.js';
import { href, navigate } from '../router.js';

/** @typedef {import('../server-types').Project} Project */

export async function projectsPage() {
  const list = h('div', { class: 'projects-list' }, h('p', { class: 'muted', text: 'Loading…' }));
  showPage('Projects', h('div', { class: 'page-head' }, h('h1', { text: 'Projects' })), list, newProjectForm());
  try {
    const { projects } = await get(paths.projects);
    list.replaceChildren(projectsTable(projects));
  } catch (err) {
    list.replaceChildren(notice('error', /** @type {Error} */ (err).message));
  }
}

/** @param {Project[]} projects */
function projectsTable(projects) {
  if (projects.length === 0) return h('p', { class: 'muted', text: 'No projects yet: create one below from a git repository.' });
  return h(
    'table',
    { class: 'table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Project', 'Latest deployment', 'Production URL', 'Repository', 'Created'].map((t) => h('th', { scope: 'col', text: t })),
      ),
    ),
    h(
      'tbody',
      {},
      projects.map((p) =>
        h(
          'tr',
          {},
          h('td', {}, h('a', { href: href(`/projects/${encodeURIComponent(p.id)}`), text: p.name, class: 'strong' })),
          latestDeployment(p),
          h('td', {}, externalLink(p.url)),
          h('td', { class: 'mono ellipsis', text: p.gitUrl, title: p.gitUrl }),
          h('td', { text: age(p.createdAt), title: p.createdAt }),
        ),
      ),
    ),
  );
}

/** A cell that fills in with the project's newest deployment (one small request per project). @param {Project} p */
function latestDeployment(p) {
  const cell = h('td', { class: 'latest' }, h('span', { class: 'muted', text: '…' }));
  get(paths.deployments(p.id, { limit: '1' }))
    .then(({ deployments }) => {
      const d = deployments[0];
      if (!d) return replace(cell, h('span', { class: 'muted', text: 'none yet' }));
      replace(
        cell,
        h(
          'a',
          { href: href(`/deployments/${encodeURIComponent(d.id)}`), attrs: { 'aria-label': `Latest deployment of ${p.name}: ${d.status}` } },
          statusBadge(d.status),
        ),
        ' ',
        h('span', { class: 'muted', text: `${d.ref ?? ''} ${age(d.createdAt)}` }),
      );
    })
    .catch(() => replace(cell, h('span', { class: 'muted', text: '—' })));
  return cell;
}

/** A link that opens a deployment in a new tab. @param {string} url */
export function externalLink(url) {
  return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: url.replace(/^https?:\/\//, ''), class: 'mono' });
}

function newProjectForm() {
  const name = h('input', { name: 'name', required: true, maxLength: 63, placeholder: 'my-site' });
  const gitUrl = h('input', { name: 'gitUrl', required: true, maxLength: 2048, placeholder: 'https://github.com/you/site.git' });
  const branch = h('input', { name: 'productionBranch', maxLength: 255, placeholder: 'main' });
  const rootDirectory = h('input', { name: 'rootDirectory', maxLength: 512, placeholder: '(repository root)' });
  const installCommand = h('input', { name: 'installCommand', maxLength: 4096, placeholder: '(detected)' });
  const buildCommand = h('input', { name: 'buildCommand', maxLength: 4096, placeholder: '(detected)' });
  const outputDirectory = h('input', { name: 'outputDirectory', maxLength: 512, placeholder: '(detected)' });
  const spa = h('input', { type: 'checkbox', name: 'spa' });
  const message = messageSlot();
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Create project' });
  const deployNow = h('input', { type: 'checkbox', name: 'deployNow', checked: true });
  return h(
    'form',
    {
      class: 'card',
      attrs: { 'aria-labelledby': 'new-project-title' },
      onSubmit: (e) => {
        e.preventDefault();
        void busy(submit, message, async () => {
          /** @type {import('../server-types').PostBody<'projects'>} */
          const body = { name: name.value, gitUrl: gitUrl.value };
          for (const [key, input] of /** @type {const} */ ([
            ['productionBranch', branch],
            ['rootDirectory', rootDirectory],
            ['installCommand', installCommand],
            ['buildCommand', buildCommand],
            ['outputDirectory', outputDirectory],
          ])) {
            if (input.value.trim()) body[key] = input.value.trim();
          }
          if (spa.checked) body.spa = true;
          const { project, githubWebhook } = await post(paths.projects, body);
          // The webhook secret is shown once: the project page displays it on its first visit.
          if (githubWebhook) sessionStorage.setItem(`platform.githubWebhook.${project.id}`, JSON.stringify(githubWebhook));
          if (deployNow.checked) {
            const { deployment } = await post(paths.deploy, { projectId: project.id });
            navigate(`/deployments/${encodeURIComponent(deployment.id)}`);
          } else {
            navigate(`/projects/${encodeURIComponent(project.id)}`);
          }
        });
      },
    },
    h('h2', { id: 'new-project-title', text: 'New project' }),
    h('div', { class: 'grid-2' }, field('Name', name, 'Also the subdomain.'), field('Git repository URL', gitUrl)),
    h(
      'details',
      {},
      h('summary', { text: 'Build settings' }),
      h(
        'div',
        { class: 'grid-2' },
        field('Production branch', branch),
        field('Root directory', rootDirectory),
        field('Install command', installCommand),
        field('Build command', buildCommand),
        field('Output directory', outputDirectory),
        h('label', { class: 'check' }, spa, ' Single-page app (unknown paths serve index.html)'),
      ),
    ),
    h('label', { class: 'check' }, deployNow, ' Deploy the production branch now'),
    message.element,
    submit,
  );
}
