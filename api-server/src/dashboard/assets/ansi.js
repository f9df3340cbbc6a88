// ANSI SGR escape sequences (colours, bold, ...) parsed into styled segments. Rendering is
// the caller's: segments carry plain text plus style facts, never markup.

/**
 * @typedef {{ fg?: string, bg?: string, bold?: boolean, dim?: boolean, italic?: boolean, underline?: boolean }} AnsiStyle
 * @typedef {{ text: string, style: AnsiStyle }} AnsiSegment
 * A colour is a palette name `0`..`15` (rendered with CSS classes) or `rgb(r,g,b)` built
 * from numbers only.
 */

// CSI (ESC [ params final), OSC (ESC ] ... BEL or ESC \), and lone two-byte escapes.
const ESCAPE = /\x1b\[([0-9;:?]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?/g;

/** @param {string} line @returns {string} the text without escape sequences */
export function stripAnsi(line) {
  return line.replace(ESCAPE, '');
}

/** The xterm 256-colour palette entry n (16..255) as rgb(). @param {number} n */
function xterm256(n) {
  if (n < 232) {
    const i = n - 16;
    const level = (/** @type {number} */ c) => (c === 0 ? 0 : 55 + c * 40);
    return `rgb(${level(Math.floor(i / 36))},${level(Math.floor(i / 6) % 6)},${level(i % 6)})`;
  }
  const grey = 8 + (n - 232) * 10;
  return `rgb(${grey},${grey},${grey})`;
}

const byte = (/** @type {number | undefined} */ v) => v !== undefined && Number.isInteger(v) && v >= 0 && v <= 255;

/**
 * Reads an extended colour (38/48 ; 5 ; n or 38/48 ; 2 ; r ; g ; b) at codes[i].
 * @param {number[]} codes @param {number} i
 * @returns {{ color: string | undefined, next: number }}
 */
function extendedColor(codes, i) {
  const mode = codes[i + 1];
  if (mode === 5) {
    const n = codes[i + 2];
    if (!byte(n)) return { color: undefined, next: i + 3 };
    return { color: /** @type {number} */ (n) < 16 ? String(n) : xterm256(/** @type {number} */ (n)), next: i + 3 };
  }
  if (mode === 2) {
    const [r, g, b] = [codes[i + 2], codes[i + 3], codes[i + 4]];
    if (!byte(r) || !byte(g) || !byte(b)) return { color: undefined, next: i + 5 };
    return { color: `rgb(${r},${g},${b})`, next: i + 5 };
  }
  return { color: undefined, next: i + 2 };
}

/** Applies one SGR parameter list to a style. @param {AnsiStyle} style @param {string} params */
function applySgr(style, params) {
  const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
  let next = { ...style };
  for (let i = 0; i < codes.length; i++) {
    const c = /** @type {number} */ (codes[i]);
    if (c === 0) next = {};
    else if (c === 1) next.bold = true;
    else if (c === 2) next.dim = true;
    else if (c === 3) next.italic = true;
    else if (c === 4) next.underline = true;
    else if (c === 22) {
      delete next.bold;
      delete next.dim;
    } else if (c === 23) delete next.italic;
    else if (c === 24) delete next.underline;
    else if (c >= 30 && c <= 37) next.fg = String(c - 30);
    else if (c >= 90 && c <= 97) next.fg = String(c - 90 + 8);
    else if (c === 39) delete next.fg;
    else if (c >= 40 && c <= 47) next.bg = String(c - 40);
    else if (c >= 100 && c <= 107) next.bg = String(c - 100 + 8);
    else if (c === 49) delete next.bg;
    else if (c === 38 || c === 48) {
      const { color, next: after } = extendedColor(codes, i);
      if (color !== undefined) {
        if (c === 38) next.fg = color;
        else next.bg = color;
      }
      i = after - 1;
    }
  }
  return next;
}

/**
 * Splits a line into segments of text with the style in force. Styles do not carry over
 * between lines (each build log line is printed on its own).
 * @param {string} line
 * @returns {AnsiSegment[]}
 */
export function parseAnsi(line) {
  /** @type {AnsiSegment[]} */
  const segments = [];
  /** @type {AnsiStyle} */
  let style = {};
  let last = 0;
  const push = (/** @type {string} */ text) => {
    if (text === '') return;
    const prev = segments[segments.length - 1];
    if (prev && sameStyle(prev.style, style)) prev.text += text;
    else segments.push({ text, style });
  };
  for (const match of line.matchAll(ESCAPE)) {
    push(line.slice(last, match.index));
    last = /** @type {number} */ (match.index) + match[0].length;
    if (match[2] === 'm' && !match[1]?.startsWith('?')) style = applySgr(style, match[1] ?? '');
  }
  push(line.slice(last));
  return segments;
}

/** @param {AnsiStyle} a @param {AnsiStyle} b */
function sameStyle(a, b) {
  return a.fg === b.fg && a.bg === b.bg && !!a.bold === !!b.bold && !!a.dim === !!b.dim && !!a.italic === !!b.italic && !!a.underline === !!b.underline;
}

/**
 * Renders a line into an element as spans with textContent only.
 * @param {string} line @param {Document} doc
 * @returns {DocumentFragment}
 */
export function renderAnsi(line, doc = document) {
  const fragment = doc.createDocumentFragment();
  for (const { text, style } of parseAnsi(line)) {
    if (Object.keys(style).length === 0) {
      fragment.appendChild(doc.createTextNode(text));
      continue;
    }
    const span = doc.createElement('span');
    span.textContent = text;
    const classes = [];
    if (style.fg !== undefined) {
      if (style.fg.startsWith('rgb(')) span.style.color = style.fg;
      else classes.push(`ansi-fg-${style.fg}`);
    }
    if (style.bg !== undefined) {
      if (style.bg.startsWith('rgb(')) span.style.backgroundColor = style.bg;
      else classes.push(`ansi-bg-${style.bg}`);
    }
    if (style.bold) classes.push('ansi-bold');
    if (style.dim) classes.push('ansi-dim');
    if (style.italic) classes.push('ansi-italic');
    if (style.underline) classes.push('ansi-underline');
    if (classes.length) span.className = classes.join(' ');
    fragment.appendChild(span);
  }
  return fragment;
}
