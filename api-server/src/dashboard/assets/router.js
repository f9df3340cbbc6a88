// Client-side routes under /dashboard/: links are ordinary <a href> (so they work with the
// keyboard, open in a new tab, and reload), intercepted for same-page navigation.

export const BASE = '/dashboard';

/**
 * @typedef {{ pattern: RegExp, keys: string[], render: (params: Record<string, string>) => Promise<Cleanup | void> | Cleanup | void }} Route
 * @typedef {() => void} Cleanup
 */

/** @type {Route[]} */
const routes = [];
/** @type {Cleanup | null} */
let cleanup = null;
let fallback = /** @type {Route['render']} */ (() => {});

/**
 * @param {string} path e.g. '/projects/:id'
 * @param {Route['render']} render
 */
export function route(path, render) {
  /** @type {string[]} */
  const keys = [];
  const pattern = new RegExp(
    `^${path
      .replace(/\/:([a-zA-Z]+)/g, (_, key) => {
        keys.push(key);
        return '/([^/]+)';
      })
      .replace(/\/$/, '')}/?$`,
  );
  routes.push({ pattern, keys, render });
}

/** @param {Route['render']} render */
export function notFound(render) {
  fallback = render;
}

/** @param {string} path a path inside the dashboard, e.g. '/projects/prj_1' */
export const href = (path) => BASE + path;

/** @param {string} path @param {{ replace?: boolean }} [options] */
export function navigate(path, options = {}) {
  const url = path.startsWith(BASE) ? path : href(path);
  if (options.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  void render();
}

export async function render() {
  cleanup?.();
  cleanup = null;
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) || '/' : '/';
  for (const r of routes) {
    const match = r.pattern.exec(path);
    if (!match) continue;
    /** @type {Record<string, string>} */
    const params = {};
    r.keys.forEach((key, i) => {
      params[key] = decodeURIComponent(match[i + 1] ?? '');
    });
    cleanup = (await r.render(params)) ?? null;
    return;
  }
  cleanup = (await fallback({})) ?? null;
}

export function startRouter() {
  window.addEventListener('popstate', () => void render());
  document.addEventListener('click', (e) => {
    const a = /** @type {HTMLElement} */ (e.target).closest?.('a');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    if (a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || (!url.pathname.startsWith(`${BASE}/`) && url.pathname !== BASE)) return;
    e.preventDefault();
    navigate(url.pathname);
  });
  void render();
}
