// A project's traffic: requests and bandwidth over time, status classes, top paths.

import { get } from '../api.js';
import { barChart, lineChart } from '../charts.js';
import { bytes, h, replace } from '../dom.js';
import { paths } from '../endpoints.js';
import { notice, showPage } from '../layout.js';
import { href } from '../router.js';

const RANGES = /** @type {const} */ ([
  { label: 'Last hour', ms: 3_600_000, bucket: '1m' },
  { label: 'Last 24 hours', ms: 86_400_000, bucket: '1h' },
  { label: 'Last 7 days', ms: 7 * 86_400_000, bucket: '6h' },
  { label: 'Last 30 days', ms: 30 * 86_400_000, bucket: '1d' },
]);

/** @param {{ id: string }} params */
export async function analyticsPage({ id }) {
  showPage('Analytics', h('p', { class: 'muted', text: 'Loading…' }));
  /** @type {import('../server-types').Project} */
  let project;
  try {
    ({ project } = await get(paths.project(id)));
  } catch (err) {
    showPage('Analytics', h('h1', { text: 'Analytics' }), notice('error', /** @type {Error} */ (err).message));
    return;
  }
  const select = h(
    'select',
    { attrs: { 'aria-label': 'Time range' }, onChange: () => void load() },
    RANGES.map((r, i) => h('option', { value: String(i), text: r.label, selected: i === 1 })),
  );
  const body = h('div', { class: 'analytics', attrs: { 'aria-live': 'polite' } });

  async function load() {
    const range = RANGES[Number(select.value)] ?? RANGES[1];
    const to = Date.now();
    try {
      const { analytics: a } = await get(
        paths.analytics(id, { from: new Date(to - range.ms).toISOString(), to: new Date(to).toISOString(), bucket: range.bucket }),
      );
      const statusRows = /** @type {const} */ (['2xx', '3xx', '4xx', '5xx', '1xx']).map((k) => ({
        label: k,
        v: a.statusClasses?.[k] ?? 0,
        className: `bar-${k}`,
      }));
      replace(
        body,
        h(
          'div',
          { class: 'totals' },
          total('Requests', String(a.totals.requests)),
          total('Bandwidth', bytes(a.totals.bytes)),
          total('Cache hit ratio', a.totals.cacheHitRatio === null ? '—' : `${Math.round(a.totals.cacheHitRatio * 100)}%`),
        ),
        h(
          'div',
          { class: 'chart-grid-2' },
          lineChart({ title: 'Requests', points: a.series.map((p) => ({ t: p.ts, v: p.requests })) }),
          lineChart({ title: 'Bandwidth', points: a.series.map((p) => ({ t: p.ts, v: p.bytes })), format: bytes }),
          barChart({ title: 'Status classes', rows: statusRows }),
          barChart({ title: 'Top paths', rows: a.topPaths.map((p) => ({ label: p.path, v: p.requests })) }),
        ),
      );
    } catch (err) {
      replace(body, notice('error', /** @type {Error} */ (err).message));
    }
  }

  showPage(
    `${project.name} analytics`,
    h(
      'div',
      { class: 'page-head' },
      h(
        'div',
        {},
        h('p', { class: 'crumbs' }, h('a', { href: href(`/projects/${encodeURIComponent(project.id)}`), text: project.name }), ' / analytics'),
        h('h1', { text: 'Analytics' }),
      ),
      h('div', { class: 'actions' }, select, h('button', { type: 'button', text: 'Refresh', onClick: () => void load() })),
    ),
    body,
  );
  await load();
}

/** @param {string} label @param {string} value */
function total(label, value) {
  return h('div', { class: 'total card' }, h('div', { class: 'total-label', text: label }), h('div', { class: 'total-value', text: value }));
}
