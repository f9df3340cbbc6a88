// The dashboard's entry: routes to pages; a 401 from the API sends the user to log in.

import { session, setUnauthorizedHandler } from './api.js';
import { h } from './dom.js';
import { showPage } from './layout.js';
import { accountPage } from './pages/account.js';
import { analyticsPage } from './pages/analytics.js';
import { authPage } from './pages/auth.js';
import { deploymentPage } from './pages/deployment.js';
import { githubSetupPage } from './pages/git.js';
import { projectPage } from './pages/project.js';
import { projectSettingsPage } from './pages/project-settings.js';
import { projectsPage } from './pages/projects.js';
import { BASE, href, navigate, notFound, route, startRouter } from './router.js';

route('/login', () => authPage('login'));
route('/signup', () => authPage('signup'));
route(
  '/',
  signedIn(() => projectsPage()),
);
route(
  '/account',
  signedIn(() => accountPage()),
);
route(
  '/projects/:id',
  signedIn((p) => projectPage({ id: p.id ?? '' })),
);
route(
  '/projects/:id/analytics',
  signedIn((p) => analyticsPage({ id: p.id ?? '' })),
);
route(
  '/projects/:id/settings',
  signedIn((p) => projectSettingsPage({ id: p.id ?? '' })),
);
route(
  '/github/setup',
  signedIn(() => githubSetupPage()),
);
route(
  '/deployments/:id',
  signedIn((p) => deploymentPage({ id: p.id ?? '' })),
);
notFound(() => showPage('Not found', h('h1', { text: 'Page not found' }), h('p', {}, h('a', { href: href('/'), text: 'Back to projects' }))));

function toLogin() {
  const here = location.pathname.slice(BASE.length) + location.search;
  if (here.startsWith('/login') || here.startsWith('/signup')) return;
  navigate(`/login?next=${encodeURIComponent(here || '/')}`, { replace: true });
}

/**
 * Pages that need an account: without a token, straight to the login page (no request that
 * is sure to fail); with an expired one, the API's 401 leads there too.
 * @template {unknown[]} A @template R @param {(...args: A) => R} render @returns {(...args: A) => R | void}
 */
function signedIn(render) {
  return (...args) => (session.token ? render(...args) : toLogin());
}

setUnauthorizedHandler(() => {
  session.token = null;
  toLogin();
});

startRouter();

/**
 * Where builds run unsandboxed (single-user mode), every page says so at the top: what it
 * means, why, and what to install. Public: GET /platform needs no account.
 */
async function showPlatformBanner() {
  const slot = document.getElementById('platform-banner');
  if (!slot) return;
  const res = await fetch('/platform', { headers: { accept: 'application/json' } }).catch(() => null);
  if (!res?.ok) return;
  const { builds } = /** @type {import('./server-types').PlatformInfo} */ (await res.json());
  if (builds.sandboxed) return;
  slot.replaceChildren(
    h(
      'div',
      { class: 'notice notice-error platform-banner', role: 'alert' },
      h('strong', { text: 'Builds run unsandboxed. ' }),
      h('span', { text: "Every build runs with the platform's own user and can read its data, so this platform has one account (sign-up is closed). " }),
      ...builds.problems.map((p) => h('span', { class: 'platform-banner-why', text: `${p}. ` })),
    ),
  );
}
void showPlatformBanner();
