// The REST API from the browser: JSON in and out, the session token as a Bearer header,
// errors thrown with the server's message so pages can show it.

const TOKEN_KEY = 'platform.session';

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const session = {
  /** @returns {string | null} */
  get token() {
    return localStorage.getItem(TOKEN_KEY);
  },
  /** @param {string | null} token */
  set token(token) {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  },
};

/** Called when the API answers 401: the page decides where to go (the login page). */
let onUnauthorized = () => {};
/** @param {() => void} handler */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

/**
 * @param {'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'} method @param {string} path @param {unknown} [body]
 * @returns {Promise<unknown>} the JSON reply (null for an empty one); get/post/del type it
 */
export async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = session.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', 'the API is unreachable; check your connection and retry');
  }
  const json = parseJson(await res.text());
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith('/auth/')) onUnauthorized();
    const error = errorOf(json);
    throw new ApiError(res.status, error?.code ?? 'http_error', error?.message ?? `${method} ${path} answered ${res.status}`);
  }
  return json;
}

/** @param {string} text @returns {unknown} */
function parseJson(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/**
 * The `{ error: { code, message } }` body of a failed request, if that is what came back (a
 * proxy in front of the API may answer with HTML).
 * @param {unknown} json @returns {Partial<import('@platform/contracts').ErrorBody['error']> | undefined}
 */
function errorOf(json) {
  const error = json && typeof json === 'object' && 'error' in json ? json.error : undefined;
  return error && typeof error === 'object' ? error : undefined;
}

// The reply types come from the path (endpoints.js): the checker knows what each answers.
// The server is trusted to answer as its contract says; the cast is that trust, in one place.

/**
 * @template {{ GET: unknown }} M
 * @param {import('./server-types').Endpoint<M>} path
 * @returns {Promise<M['GET']>}
 */
export const get = (path) => /** @type {Promise<any>} */ (api('GET', path));

/**
 * @template {{ POST: { body: unknown, reply: unknown } }} M
 * @param {import('./server-types').Endpoint<M>} path
 * @param {M['POST']['body']} [body] none for an action without options
 * @returns {Promise<M['POST']['reply']>}
 */
export const post = (path, body) => /** @type {Promise<any>} */ (api('POST', path, body ?? {}));

/**
 * @template {{ PUT: { body: unknown, reply: unknown } }} M
 * @param {import('./server-types').Endpoint<M>} path
 * @param {M['PUT']['body']} body
 * @returns {Promise<M['PUT']['reply']>}
 */
export const put = (path, body) => /** @type {Promise<any>} */ (api('PUT', path, body));

/**
 * @template {{ DELETE: unknown }} M
 * @param {import('./server-types').Endpoint<M>} path
 * @returns {Promise<M['DELETE']>}
 */
export const del = (path) => /** @type {Promise<any>} */ (api('DELETE', path));

/**
 * @template {{ PATCH: { body: unknown, reply: unknown } }} M
 * @param {import('./server-types').Endpoint<M>} path
 * @param {M['PATCH']['body']} body the fields to change
 * @returns {Promise<M['PATCH']['reply']>}
 */
export const patch = (path, body) => /** @type {Promise<any>} */ (api('PATCH', path, body));
