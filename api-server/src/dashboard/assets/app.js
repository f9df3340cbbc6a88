// The dashboard's entry: routes to pages; a 401 from the API sends the user to log in.

import { setUnauthorizedHandler } from './api.js';
import { h } from './dom.js';
import { showPage } from './layout.js';
import { analyticsPage } from './pages/analytics.js';
import { authPage } from './pages/auth.js';
import { deploymentPage } from './pages/deployment.js';
import { projectPage } from './pages/project.js';
import { projectsPage } from './pages/projects.js';
import { BASE, href, navigate, notFound, route, startRouter } from './router.js';

route('/login', () => authPage('login'));
route('/signup', () => authPage('signup'));
route('/', () => projectsPage());
route('/projects/:id', (p) => projectPage({ id: p.id ?? '' }));
route('/projects/:id/analytics', (p) => analyticsPage({ id: p.id ?? '' }));
route('/deployments/:id', (p) => deploymentPage({ id: p.id ?? '' }));
notFound(() => showPage('Not found', h('h1', { text: 'Page not found' }), h('p', {}, h('a', { href: href('/'), text: 'Back to projects' }))));

setUnauthorizedHandler(() => {
  const here = location.pathname.slice(BASE.length) + location.search;
  if (here.startsWith('/login') || here.startsWith('/signup')) return;
  navigate(`/login?next=${encodeURIComponent(here)}`, { replace: true });
});

startRouter();
