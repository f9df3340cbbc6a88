import type { Deployment, EnvVar, Project } from '@platform/contracts';
import { CliError } from './errors.ts';

/** The API's error body: `{ error: { code, message } }`. */
interface ErrorBody {
  error?: { code?: string; message?: string };
}

/** The platform's REST API with one credential; every failure becomes a one-line CliError. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string | undefined,
  ) {}

  async request<T>(method: string, path: string, options: { json?: unknown; body?: Buffer; query?: Record<string, string> } = {}): Promise<T> {
    const url = new URL(path, this.baseUrl);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | Buffer | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.body) {
      headers['content-type'] = 'application/octet-stream';
      body = options.body;
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (err) {
      throw new CliError(`cannot reach the API at ${this.baseUrl}: ${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}`);
    }
    const text = await res.text();
    const parsed = text ? safeJson(text) : undefined;
    if (!res.ok) throw new CliError(describeFailure(res.status, parsed as ErrorBody | undefined));
    return parsed as T;
  }

  me(): Promise<{ user: { id: string; email: string } }> {
    return this.request('GET', '/auth/me');
  }

  async projects(): Promise<Project[]> {
    return (await this.request<{ projects: Project[] }>('GET', '/projects')).projects;
  }

  async deployment(id: string): Promise<Deployment> {
    return (await this.request<{ deployment: Deployment }>('GET', `/deployments/${encodeURIComponent(id)}`)).deployment;
  }

  async deployments(projectId: string, query: Record<string, string> = {}): Promise<Deployment[]> {
    return (await this.request<{ deployments: Deployment[] }>('GET', `/projects/${encodeURIComponent(projectId)}/deployments`, { query })).deployments;
  }

  async envVars(projectId: string): Promise<EnvVar[]> {
    return (await this.request<{ envVars: EnvVar[] }>('GET', `/projects/${encodeURIComponent(projectId)}/env`)).envVars;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describeFailure(status: number, body: ErrorBody | undefined): string {
  const message = body?.error?.message;
  if (status === 401) return `not signed in or the token is invalid (${message ?? 'unauthenticated'}): run plat login, or set PLAT_TOKEN`;
  return message ? `${message} (HTTP ${status})` : `the API answered HTTP ${status}`;
}
