// The signed-in account: who it is, and API tokens for scripts and CI (created, listed, revoked).

import { del, get, post } from '../api.js';
import { age, h, replace } from '../dom.js';
import { paths } from '../endpoints.js';
import { busy, field, messageSlot, notice, showPage } from '../layout.js';

export async function accountPage() {
  const who = h('p', { class: 'muted' });
  const list = h('div', {});
  const message = messageSlot();
  const name = h('input', { name: 'name', required: true, maxLength: 100, placeholder: 'CI' });
  const days = h('input', { name: 'expiresInDays', type: 'number', min: 1, max: 3650, placeholder: 'never' });
  const submit = h('button', { type: 'submit', text: 'Create token' });

  async function load() {
    try {
      const { tokens } = await get(paths.apiTokens);
      replace(
        list,
        tokens.length === 0
          ? h('p', { class: 'muted', text: 'No API tokens.' })
          : h(
              'table',
              { class: 'table' },
              h('thead', {}, h('tr', {}, ['Name', 'Token', 'Created', 'Last used', 'Expires', ''].map((t) => h('th', { scope: 'col', text: t })))),
              h(
                'tbody',
                {},
                tokens.map((/** @type {any} */ t) => {
                  const revoke = h('button', { type: 'button', text: 'Revoke', attrs: { 'aria-label': `Revoke token ${t.name}` } });
                  revoke.addEventListener('click', () => {
                    if (!confirm(`Revoke "${t.name}"? Scripts using it stop working at once.`)) return;
                    void busy(/** @type {HTMLButtonElement} */ (revoke), message, async () => {
                      await del(paths.apiToken(t.id));
                      await load();
                    });
                  });
                  return h(
                    'tr',
                    { dataset: { tokenId: t.id } },
                    h('td', { text: t.name }),
                    h('td', { class: 'mono', text: `${t.prefix}…` }),
                    h('td', { text: age(t.createdAt) }),
                    h('td', { text: t.lastUsedAt ? age(t.lastUsedAt) : 'never' }),
                    h('td', { text: t.revokedAt ? 'revoked' : t.expiresAt ? new Date(t.expiresAt).toLocaleDateString() : 'never' }),
                    h('td', {}, t.revokedAt ? null : revoke),
                  );
                }),
              ),
            ),
      );
    } catch (err) {
      replace(list, notice('error', /** @type {Error} */ (err).message));
    }
  }

  showPage(
    'Account',
    h('h1', { text: 'Account' }),
    who,
    h(
      'section',
      { class: 'card', attrs: { 'aria-labelledby': 'tokens-title' } },
      h('h2', { id: 'tokens-title', text: 'API tokens' }),
      h('p', { class: 'muted', text: 'For scripts and CI: send one as "Authorization: Bearer <token>". It is shown once, when created.' }),
      list,
      h(
        'form',
        {
          class: 'inline-form',
          attrs: { 'aria-label': 'Create an API token' },
          onSubmit: (/** @type {SubmitEvent} */ e) => {
            e.preventDefault();
            void busy(submit, message, async () => {
              /** @type {Record<string, unknown>} */
              const body = { name: name.value.trim() };
              if (days.value) body.expiresInDays = Number(days.value);
              const reply = await post(paths.apiTokens, body);
              name.value = '';
              days.value = '';
              await load();
              message.show('success', `New token (shown once, copy it now): ${reply.secret}`);
            });
          },
        },
        field('Name', name),
        field('Expires in days', days),
        submit,
      ),
      message.element,
    ),
  );
  void get(paths.me)
    .then(({ user }) => {
      who.textContent = `Signed in as ${user.email} since ${new Date(user.createdAt).toLocaleDateString()}.`;
      localStorage.setItem('platform.email', user.email);
    })
    .catch(() => {});
  await load();
}
