// Log in and sign up. The API answers `{ user, accessToken, expiresAt }`; the token is kept
// in localStorage and sent as a Bearer header and in the socket.io handshake.

import { post, session } from '../api.js';
import { paths } from '../endpoints.js';
import { h } from '../dom.js';
import { busy, field, messageSlot, showPage } from '../layout.js';
import { href, navigate } from '../router.js';

/** @param {'login' | 'signup'} mode */
export function authPage(mode) {
  const isSignup = mode === 'signup';
  const email = h('input', { type: 'email', name: 'email', required: true, autocomplete: 'email', maxLength: 254 });
  const password = h('input', {
    type: 'password',
    name: 'password',
    required: true,
    minLength: isSignup ? 10 : 1,
    autocomplete: isSignup ? 'new-password' : 'current-password',
  });
  const message = messageSlot();
  const submit = h('button', { type: 'submit', class: 'primary', text: isSignup ? 'Create account' : 'Log in' });
  const form = h(
    'form',
    {
      class: 'card auth-form',
      attrs: { 'aria-label': isSignup ? 'Sign up' : 'Log in' },
      onSubmit: (e) => {
        e.preventDefault();
        void busy(submit, message, async () => {
          const reply = await post(isSignup ? paths.signup : paths.login, { email: email.value, password: password.value });
          session.token = reply.accessToken;
          localStorage.setItem('platform.email', reply.user?.email ?? email.value);
          const next = new URLSearchParams(location.search).get('next');
          navigate(next?.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
        });
      },
    },
    field('Email', email),
    field('Password', password, isSignup ? 'At least 10 characters.' : undefined),
    message.element,
    submit,
    h(
      'p',
      { class: 'muted' },
      isSignup ? 'Have an account? ' : 'New here? ',
      h('a', { href: href(isSignup ? '/login' : '/signup'), text: isSignup ? 'Log in' : 'Create an account' }),
    ),
  );
  showPage(isSignup ? 'Sign up' : 'Log in', h('h1', { text: isSignup ? 'Create your account' : 'Log in' }), form);
  email.focus();
}
