// The signed-in account: who it is, and API tokens for scripts and CI (created, listed, revoked).

import { del, get, post } from '../api.js';
import { age, h, table } from '../dom.js';
import { paths } from '../endpoints.js';
import { listSection } from '../list-section.js';
import { field, showPage } from '../layout.js';

export async function accountPage() {
  const who = h('p', { class: 'muted' });
  const tokens = tokensSection();
  showPage('Account', h('h1', { text: 'Account' }), who, tokens.element);
  void get(paths.me)
    .then(({ user }) => {
      who.textContent = `Signed in as ${user.email} since ${new Date(user.createdAt).toLocaleDateString()}.`;
      localStorage.setItem('platform.email', user.email);
    })
    .catch(() => {});
  await tokens.loaded;
}

function tokensSection() {
  const name = h('input', { name: 'name', required: true, maxLength: 100, placeholder: 'CI' });
  const days = h('input', { name: 'expiresInDays', type: 'number', min: '1', max: '3650', placeholder: 'never' });
  return listSection({
    titleId: 'tokens-title',
    title: 'API tokens',
    intro: [h('p', { class: 'muted', text: 'For scripts and CI: send one as "Authorization: Bearer <token>". It is shown once, when created.' })],
    empty: 'No API tokens.',
    load: async () => (await get(paths.apiTokens)).tokens,
    list: (rows) => table('table', ['Name', 'Token', 'Created', 'Last used', 'Expires', ''], rows),
    row: (t, revoke) =>
      h(
        'tr',
        { dataset: { tokenId: t.id } },
        h('td', { text: t.name }),
        h('td', { class: 'mono', text: `${t.prefix}…` }),
        h('td', { text: age(t.createdAt) }),
        h('td', { text: t.lastUsedAt ? age(t.lastUsedAt) : 'never' }),
        h('td', { text: t.revokedAt ? 'revoked' : t.expiresAt ? new Date(t.expiresAt).toLocaleDateString() : 'never' }),
        // A revoked token stays listed (it says when it stopped), with nothing left to do.
        h('td', {}, t.revokedAt ? null : revoke),
      ),
    remove: {
      text: 'Revoke',
      label: (t) => `Revoke token ${t.name}`,
      confirm: (t) => `Revoke "${t.name}"? Scripts using it stop working at once.`,
      run: (t) => del(paths.apiToken(t.id)),
    },
    form: {
      label: 'Create an API token',
      fields: [field('Name', name), field('Expires in days', days)],
      submit: 'Create token',
      create: async () => {
        const reply = await post(paths.apiTokens, { name: name.value.trim(), ...(days.value ? { expiresInDays: Number(days.value) } : {}) });
        name.value = '';
        days.value = '';
        return `New token (shown once, copy it now): ${reply.secret}`;
      },
    },
  });
}
