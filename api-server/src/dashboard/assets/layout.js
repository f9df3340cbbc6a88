// The page frame: title, the main region's content, the account links in the header,
// and a message area for errors and confirmations.

import { api, session } from './api.js';
import { h, replace } from './dom.js';
import { href, navigate } from './router.js';

/**
 * Shows a page: sets the document title, fills <main>, moves focus to its heading so
 * keyboard and screen-reader users start at the new content.
 * @param {string} title @param {...import('./dom.js').Child} children
 */
export function showPage(title, ...children) {
  document.title = `${title} · Deployments`;
  const main = /** @type {HTMLElement} */ (document.getElementById('main'));
  replace(main, ...children);
  renderNav();
  const heading = main.querySelector('h1');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

export function renderNav() {
  const nav = /** @type {HTMLElement} */ (document.getElementById('nav'));
  if (session.token) {
    replace(
      nav,
      h('a', { href: href('/'), text: 'Projects' }),
      h('a', { href: href('/account'), class: 'nav-user', text: localStorage.getItem('platform.email') || 'Account' }),
      h('button', {
        type: 'button',
        class: 'link-button',
        text: 'Sign out',
        onClick: () => {
          // The server revokes the session (the token is read before it is forgotten here).
          api('POST', '/auth/logout').catch(() => {});
          session.token = null;
          localStorage.removeItem('platform.email');
          navigate('/login');
        },
      }),
    );
  } else {
    replace(nav, h('a', { href: href('/login'), text: 'Log in' }), h('a', { href: href('/signup'), text: 'Sign up' }));
  }
}

/**
 * A message line (role=alert for errors, status for the rest).
 * @param {'error' | 'info' | 'success'} kind @param {string} text
 */
export function notice(kind, text) {
  return h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status', text });
}

/** A live message slot that a form fills. */
export function messageSlot() {
  const slot = h('div', { class: 'message-slot' });
  return {
    element: slot,
    /** @param {'error' | 'info' | 'success'} kind @param {string} text */
    show: (kind, text) => replace(slot, notice(kind, text)),
    clear: () => replace(slot),
  };
}

/**
 * Runs an async action for a button: disables it while running, shows errors in `slot`.
 * @param {HTMLButtonElement} button @param {{ show: (kind: 'error', text: string) => void }} slot @param {() => Promise<void>} action
 */
export async function busy(button, slot, action) {
  button.disabled = true;
  try {
    await action();
  } catch (err) {
    slot.show('error', /** @type {Error} */ (err).message);
  } finally {
    button.disabled = false;
  }
}

/** One fact of a `<dl class="facts">`; none shows as a dash. @param {string} label @param {string | null} value @param {boolean} [mono] */
export function fact(label, value, mono = false) {
  return h('div', {}, h('dt', { text: label }), h('dd', { class: mono ? 'mono' : '', text: value ?? '—' }));
}

/** A labelled form field. @param {string} label @param {HTMLElement} input @param {string} [hint] */
export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h('div', { class: 'field' }, h('label', { htmlFor: id, text: label }), input, hint ? h('small', { class: 'hint', text: hint }) : null);
}
