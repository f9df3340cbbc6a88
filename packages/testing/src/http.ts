/**
 * JSON requests to an api-server, signed in as a default user per base URL so tests that do
 * not care about accounts stay short, and typed helpers for the calls most tests make, with
 * the bodies and answers of `@platform/contracts`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  isTerminalStatus,
  type CreateDeploymentBody,
  type CreateProjectBody,
  type Deployment,
  type Project,
  type Session,
  type SignupBody,
} from '@platform/contracts';

/** Default credential per API base URL. */
const defaultTokens = new Map<string, string>();

/** Makes `token` the credential `http()` (and a `LogClient`) sends to `base`. */
export function setDefaultToken(base: string, token: string): void {
  defaultTokens.set(base, token);
}

/** Forgets the default credential of `base` (its server is gone). */
export function clearDefaultToken(base: string): void {
  defaultTokens.delete(base);
}

export function defaultTokenFor(base: string): string | undefined {
  return defaultTokens.get(base);
}

/** `text` as JSON, or undefined when it is not JSON (an error page, an empty body). */
export function jsonOrUndefined(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface HttpResponse<T = any> {
  status: number;
  headers: Headers;
  text: string;
  json: T;
}

/**
 * A JSON request to the API, signed in as the default user of `base` unless `headers`
 * carries its own `authorization` (an empty one sends none). A string body is sent as is.
 */
export async function http<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResponse<T>> {
  const token = defaultTokens.get(base);
  const auth: Record<string, string> = 'authorization' in headers ? {} : token ? { authorization: `Bearer ${token}` } : {};
  const sent = Object.fromEntries(Object.entries({ ...auth, ...headers }).filter(([, v]) => v !== ''));
  const res = await fetch(base + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...sent },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: jsonOrUndefined(text) };
}

/** The answer's JSON when the status is `expected`; otherwise an error naming the call and the answer. */
async function expectStatus<T>(call: Promise<HttpResponse<T>>, expected: number, what: string): Promise<T> {
  const res = await call;
  if (res.status !== expected) throw new Error(`${what} failed: ${res.status} ${res.text}`);
  return res.json;
}

const randomEmail = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2)}@example.test`;
const TEST_PASSWORD = 'correct horse battery staple';

/** Signs up an account (no credential sent) and returns its session. */
export function signup(base: string, body: Partial<SignupBody> = {}): Promise<Session> {
  const sent: SignupBody = { email: body.email ?? randomEmail('user'), password: body.password ?? TEST_PASSWORD };
  return expectStatus(http<Session>(base, 'POST', '/auth/signup', sent, { authorization: '' }), 201, 'sign-up');
}

/**
 * Signs up a fresh user on an api-server a test started itself and makes its token the
 * default `http()` sends to that base URL. Returns the access token.
 */
export async function signUpDefaultUser(base: string, email = randomEmail('owner')): Promise<string> {
  const { accessToken } = await signup(base, { email });
  setDefaultToken(base, accessToken);
  return accessToken;
}

/** POST /projects as the default user of `base` (or with `headers`). */
export async function createProject(base: string, body: CreateProjectBody, headers: Record<string, string> = {}): Promise<Project> {
  return (await expectStatus(http<{ project: Project }>(base, 'POST', '/projects', body, headers), 201, 'creating a project')).project;
}

/** POST /deploy: a QUEUED deployment of the project. */
export async function deploy(base: string, body: CreateDeploymentBody, headers: Record<string, string> = {}): Promise<Deployment> {
  return (await expectStatus(http<{ deployment: Deployment }>(base, 'POST', '/deploy', body, headers), 202, 'deploying')).deployment;
}

/** Polls a deployment until it reaches a terminal status. */
export async function waitForDeployment(api: string, id: string, timeoutMs = 90_000): Promise<Deployment> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const { json } = await http<{ deployment?: Deployment }>(api, 'GET', `/deployments/${id}`);
    if (json?.deployment && isTerminalStatus(json.deployment.status)) return json.deployment;
    await sleep(150);
  }
  throw new Error(`deployment ${id} did not finish within ${timeoutMs} ms`);
}
