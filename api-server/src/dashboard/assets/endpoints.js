// Every REST path the dashboard calls, in one place. Each is typed with what its methods take
// and answer (`Api` in server-types.d.ts), so `get`/`post`/`del` in api.js check the body
// and type the reply; at run time they are plain strings.

/**
 * @template {keyof import('./server-types').Api} N
 * @typedef {import('./server-types').Endpoint<import('./server-types').Api[N]>} Path
 */

const id = encodeURIComponent;

/** @param {Record<string, string>} query */
const search = (query) => (Object.keys(query).length ? `?${new URLSearchParams(query)}` : '');

/**
 * Tags a path string with its endpoint type (the type lives only in the checker).
 * @template {keyof import('./server-types').Api} N
 * @param {N} _name @param {string} path
 * @returns {Path<N>}
 */
const at = (_name, path) => path;

export const paths = {
  signup: at('signup', '/auth/signup'),
  login: at('login', '/auth/login'),
  me: at('me', '/auth/me'),
  apiTokens: at('apiTokens', '/auth/tokens'),
  apiToken: (/** @type {string} */ t) => at('apiToken', `/auth/tokens/${id(t)}`),
  projects: at('projects', '/projects'),
  deploy: at('deploy', '/deploy'),
  project: (/** @type {string} */ p) => at('project', `/projects/${id(p)}`),
  deployments: (/** @type {string} */ p, /** @type {Record<string, string>} */ query = {}) =>
    at('deployments', `/projects/${id(p)}/deployments${search(query)}`),
  deployment: (/** @type {string} */ d) => at('deployment', `/deployments/${id(d)}`),
  deploymentLogs: (/** @type {string} */ d, /** @type {Record<string, string>} */ query = {}) =>
    at('deploymentLogs', `/deployments/${id(d)}/logs${search(query)}`),
  cancel: (/** @type {string} */ d) => at('cancel', `/deployments/${id(d)}/cancel`),
  redeploy: (/** @type {string} */ d) => at('redeploy', `/deployments/${id(d)}/redeploy`),
  promote: (/** @type {string} */ d) => at('promote', `/deployments/${id(d)}/promote`),
  envVars: (/** @type {string} */ p) => at('envVars', `/projects/${id(p)}/env`),
  envVar: (/** @type {string} */ p, /** @type {string} */ e) => at('envVar', `/projects/${id(p)}/env/${id(e)}`),
  deployHooks: (/** @type {string} */ p) => at('deployHooks', `/projects/${id(p)}/deploy-hooks`),
  deployHook: (/** @type {string} */ p, /** @type {string} */ k) => at('deployHook', `/projects/${id(p)}/deploy-hooks/${id(k)}`),
  notifications: (/** @type {string} */ p) => at('notifications', `/projects/${id(p)}/notifications`),
  notification: (/** @type {string} */ p, /** @type {string} */ n) => at('notification', `/projects/${id(p)}/notifications/${id(n)}`),
  githubWebhookSecret: (/** @type {string} */ p) => at('githubWebhookSecret', `/projects/${id(p)}/github-webhook/secret`),
  githubDeliveries: (/** @type {string} */ p) => at('githubDeliveries', `/projects/${id(p)}/github-webhook/deliveries`),
  retention: (/** @type {string} */ p) => at('retention', `/projects/${id(p)}/retention`),
  usage: (/** @type {string} */ p) => at('usage', `/projects/${id(p)}/usage`),
  domains: (/** @type {string} */ p) => at('domains', `/projects/${id(p)}/domains`),
  domain: (/** @type {string} */ p, /** @type {string} */ d) => at('domain', `/projects/${id(p)}/domains/${id(d)}`),
  domainVerify: (/** @type {string} */ p, /** @type {string} */ d) => at('domainVerify', `/projects/${id(p)}/domains/${id(d)}/verify`),
  githubApp: at('githubApp', '/github/app'),
  githubInstallations: at('githubInstallations', '/github/installations'),
  githubRepositories: (/** @type {number} */ i) => at('githubRepositories', `/github/installations/${id(String(i))}/repositories`),
  projectGithub: (/** @type {string} */ p) => at('projectGithub', `/projects/${id(p)}/github`),
  gitCredentials: (/** @type {string} */ p) => at('gitCredentials', `/projects/${id(p)}/git-credentials`),
  pullRequests: (/** @type {string} */ p) => at('pullRequests', `/projects/${id(p)}/pull-requests`),
  approvePullRequest: (/** @type {string} */ p, /** @type {number} */ n) => at('approvePullRequest', `/projects/${id(p)}/pull-requests/${n}/approve`),
  analytics: (/** @type {string} */ p, /** @type {Record<string, string>} */ query = {}) => at('analytics', `/projects/${id(p)}/analytics${search(query)}`),
};
