// The live build log. History first over REST in pages of lines (one request per 5,000 lines
// instead of one socket message per line), then socket.io `subscribe { deploymentId,
// afterSeq }` for the rest: `log` and `status` events after the last seq held. The viewer
// resubscribes after its last seq on every (re)connect and drops any event at or below it,
// so neither a reload nor a reconnect loses or repeats a line.

import { io } from './vendor/socket.io.esm.min.js';
import { renderAnsi, stripAnsi } from './ansi.js';
import { get, session } from './api.js';
import { paths } from './endpoints.js';
import { h } from './dom.js';
import { isTerminal } from './statuses.js';

const HISTORY_PAGE = 5000;

const ROW_TEMPLATE = h(
  'div',
  { class: 'log-line' },
  h('span', { class: 'log-seq', attrs: { 'aria-hidden': 'true' } }),
  h('span', { class: 'log-tag' }),
  h('span', { class: 'log-msg' }),
);

/**
 * The socket protocol, in one place: the event maps in server-types.d.ts (derived from the
 * build-event schemas until @platform/contracts carries the socket.io maps themselves).
 * @typedef {import('./vendor/socket.io.esm.min.js').Socket<
 *   import('./server-types').LiveLogServerEvents,
 *   import('./server-types').LiveLogClientEvents>} LiveLogSocket
 * @typedef {import('./server-types').LogLine} LogLine
 * @typedef {import('./server-types').LiveStatus} StatusEvent
 */

export class LogViewer {
  /**
   * @param {{ deploymentId: string, onStatus?: (event: StatusEvent) => void, onLines?: () => void }} options
   */
  constructor({ deploymentId, onStatus, onLines }) {
    this.deploymentId = deploymentId;
    this.onStatus = onStatus ?? (() => {});
    this.onLines = onLines ?? (() => {});
    /** The highest seq received (log or status): the resume point. */
    this.lastSeq = 0;
    /** @type {LogLine[]} */
    this.lines = [];
    /** Lower-cased plain text per line, for search. @type {string[]} */
    this.searchText = [];
    /** @type {LogLine[]} */
    this.pending = [];
    this.flushTimer = 0;
    this.follow = true;
    this.ended = false;
    this.stopped = false;
    this.query = '';
    /** @type {LiveLogSocket | null} */
    this.socket = null;

    this.body = h('div', {
      class: 'log-body',
      role: 'log',
      tabIndex: 0,
      attrs: { 'aria-label': 'Build log', 'aria-live': 'off' },
      onScroll: () => this.onScroll(),
    });
    this.empty = h('div', { class: 'log-empty', text: 'Waiting for the first line…' });
    this.body.append(this.empty);
    this.connection = h('span', { class: 'log-connection', text: 'connecting…', attrs: { 'aria-live': 'polite' } });
    this.search = h('input', {
      type: 'search',
      class: 'log-search',
      placeholder: 'Search the log  ( / )',
      attrs: { 'aria-label': 'Search the log' },
      onInput: () => this.applySearch(),
      onKeydown: (/** @type {KeyboardEvent} */ e) => {
        if (e.key === 'Escape') {
          this.search.value = '';
          this.applySearch();
          this.body.focus();
        }
      },
    });
    this.matches = h('span', { class: 'log-matches', attrs: { 'aria-live': 'polite' } });
    this.followBox = h('input', { type: 'checkbox', checked: true, onChange: () => this.setFollow(this.followBox.checked) });
    this.count = h('span', { class: 'log-count', text: '0 lines' });
    this.downloadButton = h('button', { type: 'button', text: 'Download', onClick: () => this.download() });
    this.element = h(
      'section',
      { class: 'log-viewer', attrs: { 'aria-label': 'Build log viewer' } },
      h(
        'div',
        { class: 'log-toolbar' },
        this.search,
        this.matches,
        h('label', { class: 'log-follow' }, this.followBox, ' Follow'),
        this.count,
        this.connection,
        this.downloadButton,
      ),
      this.body,
    );
    this.onKey = (/** @type {KeyboardEvent} */ e) => {
      const target = /** @type {HTMLElement} */ (e.target);
      if (e.key === '/' && !/^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) {
        e.preventDefault();
        this.search.focus();
      }
      if (e.key === 'End' && target === this.body) this.setFollow(true);
    };
  }

  start() {
    document.addEventListener('keydown', this.onKey);
    this.stopped = false;
    void this.loadHistory().then(() => {
      if (!this.stopped) this.connect();
    });
  }

  /** Reads the stored log over REST, page by page; a failure just leaves it to the socket. */
  async loadHistory() {
    this.setConnection('loading…', 'warn');
    try {
      for (;;) {
        const reply = await get(paths.deploymentLogs(this.deploymentId, { afterSeq: String(this.lastSeq), limit: String(HISTORY_PAGE) }));
        if (this.stopped) return;
        const lines = reply.lines;
        for (const line of lines) {
          if (line.seq <= this.lastSeq) continue;
          this.lastSeq = line.seq;
          this.pending.push(line);
        }
        this.flush();
        if (lines.length < HISTORY_PAGE) return;
      }
    } catch {
      // The socket's history replay covers whatever is missing.
    }
  }

  connect() {
    /** @type {LiveLogSocket} */
    const socket = io({ auth: { token: session.token ?? undefined }, transports: ['websocket', 'polling'] });
    this.socket = socket;
    // Exposed for diagnostics and the browser tests (forcing a reconnect).
    /** @type {any} */ (window).__liveLogSocket = socket;
    socket.on('connect', () => this.subscribe());
    socket.on('disconnect', () => {
      if (!this.ended) this.setConnection('reconnecting…', 'warn');
    });
    socket.on('connect_error', (err) => {
      // Refused by the server (no or expired token): say why; socket.io does not retry it.
      if (!socket.active) this.setConnection(err.message, 'error');
      else this.setConnection('reconnecting…', 'warn');
    });
    socket.on('log', (event) => {
      if (event.deploymentId !== this.deploymentId || event.seq <= this.lastSeq) return;
      this.lastSeq = event.seq;
      this.pending.push(event);
      this.scheduleFlush();
    });
    socket.on('status', (event) => {
      if (event.deploymentId !== this.deploymentId) return;
      if (event.seq > this.lastSeq) this.lastSeq = event.seq;
      // Lines received before the status go on screen first: the order the build had.
      this.flush();
      if (isTerminal(event.status)) {
        this.ended = true;
        this.setConnection('build ended', 'done');
        socket.disconnect();
      }
      this.onStatus(event);
    });
    socket.on('stream-error', (event) => {
      if (event.deploymentId !== this.deploymentId) return;
      this.setConnection(event.message, 'error');
      setTimeout(() => this.subscribe(), 2000);
    });
  }

  stop() {
    this.stopped = true;
    document.removeEventListener('keydown', this.onKey);
    clearTimeout(this.flushTimer);
    this.socket?.disconnect();
    this.socket = null;
  }

  subscribe() {
    const socket = this.socket;
    if (!socket || this.ended) return;
    this.setConnection(this.lastSeq === 0 ? 'loading…' : 'resuming…', 'warn');
    socket.emit('subscribe', { deploymentId: this.deploymentId, afterSeq: this.lastSeq }, (reply) => {
      if (reply?.ok) {
        if (!this.ended) this.setConnection('live', 'live');
        // The status as of the subscription: a change older than the resume point is not
        // replayed as an event, so the page learns it here.
        if (typeof reply.status === 'string' && !this.ended) this.onStatus({ deploymentId: this.deploymentId, seq: 0, status: reply.status });
      } else {
        // `?.`: a server of another version may answer with nothing at all.
        this.setConnection(reply?.error ?? 'subscribe failed', 'error');
      }
    });
  }

  /** @param {string} text @param {string} kind */
  setConnection(text, kind) {
    this.connection.textContent = text;
    this.connection.dataset.kind = kind;
  }

  scheduleFlush() {
    if (this.flushTimer) return;
    this.flushTimer = window.setTimeout(() => this.flush(), 16);
  }

  /** Appends the pending lines in one DOM write. */
  flush() {
    clearTimeout(this.flushTimer);
    this.flushTimer = 0;
    if (this.pending.length === 0) return;
    if (this.empty.isConnected) this.empty.remove();
    const fragment = document.createDocumentFragment();
    const q = this.query;
    for (const line of this.pending) {
      const hasEscapes = line.message.includes('\x1b');
      const plain = hasEscapes ? stripAnsi(line.message) : line.message;
      const lower = plain.toLowerCase();
      this.lines.push(line);
      this.searchText.push(lower);
      // A clone of one prepared row is much cheaper than building four elements per line.
      const row = /** @type {HTMLElement} */ (ROW_TEMPLATE.cloneNode(true));
      row.className = `log-line log-${line.stream}`;
      row.dataset.seq = String(line.seq);
      row.dataset.stream = line.stream;
      const [seq, tag, msg] = /** @type {HTMLElement[]} */ (/** @type {unknown} */ (row.children));
      /** @type {HTMLElement} */ (seq).textContent = String(line.seq);
      if (line.stream !== 'stdout') /** @type {HTMLElement} */ (tag).textContent = line.stream === 'stderr' ? 'err' : 'sys';
      if (hasEscapes) /** @type {HTMLElement} */ (msg).append(renderAnsi(line.message));
      else {
        const text = /** @type {HTMLElement} */ (msg);
        text.textContent = line.message;
      }
      if (q && !lower.includes(q)) row.hidden = true;
      fragment.append(row);
    }
    this.pending = [];
    this.body.append(fragment);
    this.count.textContent = `${this.lines.length} line${this.lines.length === 1 ? '' : 's'}`;
    if (q) this.updateMatchCount();
    if (this.follow) this.scrollToEnd();
    this.onLines();
  }

  scrollToEnd() {
    this.body.scrollTop = this.body.scrollHeight;
  }

  onScroll() {
    const atEnd = this.body.scrollHeight - this.body.scrollTop - this.body.clientHeight < 8;
    if (atEnd !== this.follow) {
      this.follow = atEnd;
      this.followBox.checked = atEnd;
    }
  }

  /** @param {boolean} on */
  setFollow(on) {
    this.follow = on;
    this.followBox.checked = on;
    if (on) this.scrollToEnd();
  }

  applySearch() {
    this.query = this.search.value.trim().toLowerCase();
    const rows = this.body.querySelectorAll('.log-line');
    rows.forEach((row, i) => {
      /** @type {HTMLElement} */ (row).hidden = this.query !== '' && !(this.searchText[i] ?? '').includes(this.query);
    });
    this.updateMatchCount();
    if (!this.query && this.follow) this.scrollToEnd();
  }

  updateMatchCount() {
    if (!this.query) {
      this.matches.textContent = '';
      return;
    }
    let n = 0;
    for (const text of this.searchText) if (text.includes(this.query)) n++;
    this.matches.textContent = `${n} match${n === 1 ? '' : 'es'}`;
  }

  /** The whole log as plain text (ANSI removed), one line per event. */
  plainText() {
    return this.lines.map((l) => stripAnsi(l.message)).join('\n') + (this.lines.length ? '\n' : '');
  }

  download() {
    this.flush();
    const url = URL.createObjectURL(new Blob([this.plainText()], { type: 'text/plain;charset=utf-8' }));
    const a = h('a', { href: url, download: `${this.deploymentId}.log` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}
