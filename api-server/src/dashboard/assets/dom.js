// DOM helpers. Every piece of user or build data goes in as text (textContent or a text
// node), never as HTML: a log line or a project name cannot inject markup.

/**
 * Creates an element. `props`: `class`, `text`, `on<Event>` handlers, `dataset`, `style`
 * (an object), `attrs` (set with setAttribute), anything else assigned as a property.
 * Children: nodes, strings (as text nodes), null/false (skipped), arrays (flattened).
 * @param {string} tag
 * @param {Record<string, any>} [props]
 * @param {...any} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'style') Object.assign(el.style, value);
    else if (key === 'attrs') for (const [a, v] of Object.entries(value)) el.setAttribute(a, String(v));
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'innerHTML') throw new Error('innerHTML is not allowed');
    else /** @type {any} */ (el)[key] = value;
  }
  append(el, children);
  return el;
}

/** @param {Node} parent @param {any[]} children */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. @param {Element} el @param {...any} children */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** "3 minutes ago" from an ISO time. @param {string | null} iso */
export function age(iso, now = Date.now()) {
  if (!iso) return '';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes}m ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours}h ago`;
  return `${Math.round(hours / 24)}d ago`;
}

/** "1m 05s" between two ISO times (or until now). @param {string | null} from @param {string | null} to */
export function duration(from, to, now = Date.now()) {
  if (!from) return '';
  const ms = Math.max(0, (to ? Date.parse(to) : now) - Date.parse(from));
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

/** A status pill. @param {string} status */
export function statusBadge(status) {
  return h('span', { class: `status status-${String(status).toLowerCase()}`, text: status, dataset: { status } });
}

/** Bytes in KB/MB/GB. @param {number} n */
export function bytes(n) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) (v /= 1024), i++;
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
