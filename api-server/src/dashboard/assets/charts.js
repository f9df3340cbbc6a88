// Small inline-SVG charts. Labels are set with textContent; numbers only go into attributes.

const SVG = 'http://www.w3.org/2000/svg';

/** @param {string} tag @param {Record<string, string | number>} [attrs] @param {string} [text] */
function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A "nice" upper bound for an axis. @param {number} max */
function niceMax(max) {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * power >= max) ?? 10;
  return step * power;
}

/**
 * A line chart over time with filled area.
 * @param {{ title: string, points: { t: string | number, v: number }[], format?: (v: number) => string }} options
 * @returns {HTMLElement}
 */
export function lineChart({ title, points, format = (v) => String(v) }) {
  const width = 560;
  const height = 180;
  const pad = { left: 56, right: 12, top: 12, bottom: 28 };
  const figure = document.createElement('figure');
  figure.className = 'chart';
  const caption = document.createElement('figcaption');
  caption.textContent = title;
  figure.append(caption);
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart-svg' });
  const total = points.reduce((sum, p) => sum + p.v, 0);
  svg.append(s('title', {}, `${title}: ${points.length} points, total ${format(total)}`));
  const max = niceMax(Math.max(0, ...points.map((p) => p.v)));
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const x = (/** @type {number} */ i) => pad.left + (points.length <= 1 ? plotW / 2 : (i / (points.length - 1)) * plotW);
  const y = (/** @type {number} */ v) => pad.top + plotH - (v / max) * plotH;
  for (const frac of [0, 0.5, 1]) {
    const gy = y(max * frac);
    svg.append(s('line', { x1: pad.left, x2: width - pad.right, y1: gy, y2: gy, class: 'chart-grid' }));
    svg.append(s('text', { x: pad.left - 6, y: gy + 4, 'text-anchor': 'end', class: 'chart-label' }, format(max * frac)));
  }
  if (points.length > 0) {
    const coords = points.map((p, i) => `${x(i).toFixed(1)},${y(p.v).toFixed(1)}`);
    svg.append(s('polygon', { points: `${x(0)},${y(0)} ${coords.join(' ')} ${x(points.length - 1)},${y(0)}`, class: 'chart-area' }));
    svg.append(s('polyline', { points: coords.join(' '), class: 'chart-line' }));
    const first = points[0];
    const last = points[points.length - 1];
    if (first && last) {
      svg.append(s('text', { x: pad.left, y: height - 8, class: 'chart-label' }, timeLabel(first.t)));
      svg.append(s('text', { x: width - pad.right, y: height - 8, 'text-anchor': 'end', class: 'chart-label' }, timeLabel(last.t)));
    }
  } else {
    svg.append(s('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'chart-label' }, 'No data yet'));
  }
  figure.append(svg);
  return figure;
}

/** @param {string | number} t */
function timeLabel(t) {
  const d = new Date(typeof t === 'number' ? t : Date.parse(t));
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/**
 * Horizontal bars, one per labelled value.
 * @param {{ title: string, rows: { label: string, v: number, className?: string }[], format?: (v: number) => string }} options
 * @returns {HTMLElement}
 */
export function barChart({ title, rows, format = (v) => String(v) }) {
  const rowH = 24;
  const width = 560;
  const labelW = 200;
  const height = Math.max(1, rows.length) * rowH + 8;
  const figure = document.createElement('figure');
  figure.className = 'chart';
  const caption = document.createElement('figcaption');
  caption.textContent = title;
  figure.append(caption);
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart-svg' });
  svg.append(s('title', {}, `${title}: ${rows.map((r) => `${r.label} ${format(r.v)}`).join(', ') || 'no data'}`));
  const max = Math.max(1, ...rows.map((r) => r.v));
  rows.forEach((row, i) => {
    const top = 4 + i * rowH;
    const label = row.label.length > 30 ? `${row.label.slice(0, 29)}…` : row.label;
    svg.append(s('text', { x: 0, y: top + 16, class: 'chart-label' }, label));
    const w = ((width - labelW - 70) * row.v) / max;
    svg.append(s('rect', { x: labelW, y: top + 4, width: Math.max(1, w).toFixed(1), height: rowH - 8, rx: 2, class: `chart-bar ${row.className ?? ''}` }));
    svg.append(s('text', { x: labelW + w + 6, y: top + 16, class: 'chart-label' }, format(row.v)));
  });
  if (rows.length === 0) svg.append(s('text', { x: 0, y: 18, class: 'chart-label' }, 'No data yet'));
  figure.append(svg);
  return figure;
}
