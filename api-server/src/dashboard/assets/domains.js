// The project page's Domains card: add a custom domain, the DNS records that prove it, where
// it stands (pending → verified → issuing → active | failed, with the DNS's or the CA's own
// words), its certificate, a retry and a remove. A domain still on its way refreshes itself.

import { del, get, post } from './api.js';
import { h, replace, statusBadge, table } from './dom.js';
import { paths } from './endpoints.js';
import { listSection } from './list-section.js';
import { busy, field, messageSlot } from './layout.js';

/**
 * @typedef {import('./server-types').Project} Project
 * @typedef {import('./server-types').Domain} Domain
 */

/** Statuses the worker still moves on its own: the card looks again while one is shown. */
const MOVING = new Set(['pending', 'verified', 'issuing']);

/** @param {Domain} d */
function dnsRecords(d) {
  return table(
    'table dns-records',
    ['Type', 'Name', 'Value'],
    d.dnsRecords.map((r) => h('tr', {}, h('td', { text: r.type }), h('td', { class: 'mono', text: r.name }), h('td', { class: 'mono', text: r.value }))),
    'Create one of these records at your DNS provider',
  );
}

/** @param {Domain} d */
function details(d) {
  const lines = [];
  if (d.statusReason) lines.push(h('p', { class: d.status === 'failed' ? 'error-text' : 'muted', text: d.statusReason, dataset: { role: 'reason' } }));
  if (d.renewalError)
    lines.push(
      h('p', { class: 'error-text', dataset: { role: 'renewal-error' }, text: `Renewal failed (the current certificate is still served): ${d.renewalError}` }),
    );
  if (d.certificate) lines.push(h('p', { class: 'muted', text: `Certificate valid until ${new Date(d.certificate.notAfter).toLocaleString()}` }));
  if (d.redirectTo) lines.push(h('p', { class: 'muted', text: `Redirects to ${d.redirectTo}` }));
  if (d.status !== 'active') lines.push(dnsRecords(d));
  return lines;
}

/** @param {Project} project */
export function domainsSection(project) {
  const message = messageSlot();
  const hostname = h('input', { name: 'hostname', required: true, maxLength: 253, placeholder: 'www.example.com', autocomplete: 'off' });
  const branch = h('input', { name: 'branch', maxLength: 255, placeholder: project.productionBranch });
  const hsts = h('input', { type: 'checkbox', name: 'hsts' });
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const section = listSection({
    titleId: 'domains-title',
    title: 'Domains',
    intro: [h('p', { class: 'muted', text: 'Your own domains, served with a certificate the platform obtains and renews.' })],
    empty: 'No custom domains.',
    load: async () => {
      const { domains } = await get(paths.domains(project.id));
      clearTimeout(timer);
      // While one is on its way, look again shortly; a removed card's timer finds no document.
      if (domains.some((d) => MOVING.has(d.status))) timer = setTimeout(() => document.contains(section.element) && void section.reload(), 2_000);
      return domains;
    },
    list: (rows) => h('ul', { class: 'plain-list domains' }, rows),
    row: (d, remove) => {
      const status = h('span', {}, statusBadge(d.status));
      const retry = h('button', { type: 'button', text: 'Retry', attrs: { 'aria-label': `Retry ${d.hostname}` } });
      retry.addEventListener('click', () => {
        void busy(retry, message, async () => {
          const reply = await post(paths.domainVerify(project.id, d.hostname));
          replace(status, statusBadge(reply.domain.status));
          await section.reload();
        });
      });
      const canRetry = d.status === 'failed' || d.status === 'pending' || d.renewalError !== null;
      return h(
        'li',
        { dataset: { hostname: d.hostname } },
        h('strong', { class: 'mono', text: d.hostname }),
        ' ',
        status,
        ' ',
        canRetry ? retry : null,
        ' ',
        remove,
        ...details(d),
      );
    },
    remove: {
      text: 'Remove',
      label: (d) => `Remove ${d.hostname}`,
      confirm: (d) => `Remove ${d.hostname}? It stops being served and its certificate is deleted.`,
      run: (d) => del(paths.domain(project.id, d.hostname)),
    },
    form: {
      label: 'Add a domain',
      fields: [field('Domain', hostname), field('Branch', branch, 'Empty: production'), h('label', {}, hsts, ' Send HSTS once served over HTTPS')],
      submit: 'Add domain',
      create: async () => {
        const name = hostname.value.trim().toLowerCase();
        await post(paths.domains(project.id), { hostname: name, branch: branch.value.trim() || null, hsts: hsts.checked });
        hostname.value = '';
        return `Added ${name}: create one of the DNS records shown to prove it is yours.`;
      },
    },
    message,
  });
  return section.element;
}
