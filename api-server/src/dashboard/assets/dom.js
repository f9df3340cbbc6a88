// DOM helpers. Every piece of user or build data goes in as text (textContent or a text
// node), never as HTML: a log line or a project name cannot inject markup.

/**
 * What `h()` takes as children: nodes, text, nothing, or lists of them (two levels deep is
 * all the pages use; a JSDoc type alias cannot refer to itself).
 * @typedef {Node | string | number | null | undefined | false} Leaf
 * @typedef {Leaf | (Leaf | Leaf[])[]} Child
 */

/**
 * `h()`'s props for a tag: the element's own properties (`htmlFor`, `hidden`, `maxLength`...,
 * checked against the DOM's types), `on<Event>` listeners typed with their event, and the
 * extras below. `style` is an object; `attrs` are set with setAttribute (aria-*).
 * @template {keyof HTMLElementTagNameMap} K
 * @typedef {Partial<Omit<HTMLElementTagNameMap[K], 'style' | 'dataset' | 'className' | 'innerHTML' | 'outerHTML'>>
 *   & { [E in keyof HTMLElementEventMap as `on${Capitalize<E>}`]?: (event: HTMLElementEventMap[E]) => void }
 *   & { class?: string, text?: string | number, dataset?: Record<string, string>, style?: Partial<CSSStyleDeclaration>, attrs?: Record<string, string | number | boolean> }} Props
 */

/**
 * Creates an element. `props`: `class`, `text`, `on<Event>` handlers, `dataset`, `style`
 * (an object), `attrs` (set with setAttribute), anything else assigned as a property.
 * Children: nodes, strings (as text nodes), null/false (skipped), arrays (flattened).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {NoInfer<Props<K>>} [props] (NoInfer: the tag alone picks K, so listeners get their event type)
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  // The checks are the types'; the loop only sorts the keys.
  for (const [key, value] of Object.entries(/** @type {Record<string, any>} */ (props))) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'style') Object.assign(el.style, value);
    else if (key === 'attrs') for (const [a, v] of Object.entries(value)) el.setAttribute(a, String(v));
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    // Not even from a caller that bypasses the types: markup never comes from data.
    else if (key === 'innerHTML') throw new Error('innerHTML is not allowed');
    else {
      const target = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (el));
      target[key] = value;
    }
  }
  append(el, children);
  return el;
}

/** @param {Node} parent @param {Child[]} children */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. @param {Element} el @param {...Child} children */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * A table: a header row of column names, then the rows.
 * @param {string} className @param {string[]} columns @param {Node[]} rows @param {string} [caption]
 */
export function table(className, columns, rows, caption) {
  return h(
    'table',
    { class: className },
    caption ? h('caption', { text: caption }) : null,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((t) => h('th', { scope: 'col', text: t })),
      ),
    ),
    h('tbody', {}, rows),
  );
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
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
