// Every REST path the dashboard calls, in one place.

const id = encodeURIComponent;

export const paths = {
  signup: '/auth/signup',
  login: '/auth/login',
  me: '/auth/me',
  apiTokens: '/auth/tokens',
  apiToken: (/** @type {string} */ t) => `/auth/tokens/${id(t)}`,
  projects: '/projects',
  createProject: '/projects',
  deploy: '/deploy',
  project: (/** @type {string} */ p) => `/projects/${id(p)}`,
  deployments: (/** @type {string} */ p, /** @type {Record<string, string>} */ query = {}) =>
    `/projects/${id(p)}/deployments${Object.keys(query).length ? `?${new URLSearchParams(query)}` : ''}`,
  deployment: (/** @type {string} */ d) => `/deployments/${id(d)}`,
  deploymentLogs: (/** @type {string} */ d) => `/deployments/${id(d)}/logs`,
  cancel: (/** @type {string} */ d) => `/deployments/${id(d)}/cancel`,
  redeploy: (/** @type {string} */ d) => `/deployments/${id(d)}/redeploy`,
  promote: (/** @type {string} */ d) => `/deployments/${id(d)}/promote`,
  envVars: (/** @type {string} */ p) => `/projects/${id(p)}/env`,
  envVar: (/** @type {string} */ p, /** @type {string} */ e) => `/projects/${id(p)}/env/${id(e)}`,
  deployHooks: (/** @type {string} */ p) => `/projects/${id(p)}/deploy-hooks`,
  deployHook: (/** @type {string} */ p, /** @type {string} */ k) => `/projects/${id(p)}/deploy-hooks/${id(k)}`,
  notifications: (/** @type {string} */ p) => `/projects/${id(p)}/notifications`,
  notification: (/** @type {string} */ p, /** @type {string} */ n) => `/projects/${id(p)}/notifications/${id(n)}`,
  githubWebhookSecret: (/** @type {string} */ p) => `/projects/${id(p)}/github-webhook/secret`,
  githubDeliveries: (/** @type {string} */ p) => `/projects/${id(p)}/github-webhook/deliveries`,
  analytics: (/** @type {string} */ p, /** @type {Record<string, string>} */ query = {}) =>
    `/projects/${id(p)}/analytics${Object.keys(query).length ? `?${new URLSearchParams(query)}` : ''}`,
};
