/**
 * A stand-in for GitHub's REST API, on loopback: GitHub itself cannot be reached from here, so
 * this server answers the calls the platform's real `@octokit/*` client makes (pointed at its
 * base URL), the way GitHub documents them, and records every request for the test to assert
 * on: the App's JWT, the installation-token exchange, commit statuses, pull-request comments.
 * `failNext` makes it answer 502 a number of times, as GitHub does in an outage.
 */
import { createVerify, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: any;
  /** The status this server answered. */
  status: number;
}

export interface FakeRepository {
  id: number;
  full_name: string;
  private: boolean;
  default_branch: string;
  clone_url: string;
}

export interface FakeGithubOptions {
  appId: number;
  /** The App's public key (PEM): JWTs are verified against it, as GitHub does. */
  appPublicKey: string;
  clientId: string;
  clientSecret: string;
  /** OAuth codes (of the setup redirect) → the installations that GitHub user can reach. */
  users: Record<string, { login: string; installations: { id: number; account: string }[] }>;
  /** Repositories per installation id. */
  repositories: Record<number, FakeRepository[]>;
}

export interface FakeGithub {
  url: string;
  requests: RecordedRequest[];
  /** Installation tokens handed out, with what they were scoped to. */
  tokens: Map<string, { installationId: number; body: any }>;
  /** The claims of every App JWT received (already verified against the public key). */
  jwtClaims: Record<string, unknown>[];
  failNext(match: RegExp, times: number, status?: number): void;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, body: any, match: RegExpExecArray) => { status: number; json: unknown };

export async function startFakeGithub(options: FakeGithubOptions): Promise<FakeGithub> {
  const requests: RecordedRequest[] = [];
  const tokens = new Map<string, { installationId: number; body: any }>();
  const userTokens = new Map<string, string>();
  const jwtClaims: Record<string, unknown>[] = [];
  const faults: { match: RegExp; times: number; status: number }[] = [];
  let commentId = 1000;

  const installationOf = (req: IncomingMessage): number | null => {
    const token = /^token (\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? /^bearer (ghs_\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    return token ? (tokens.get(token)?.installationId ?? null) : null;
  };
  const unauthorized = { status: 401, json: { message: 'Bad credentials' } };

  const routes: [string, RegExp, Handler][] = [
    [
      'POST',
      /^\/app\/installations\/(\d+)\/access_tokens$/,
      (req, body, m) => {
        const claims = verifyAppJwt(req.headers.authorization, options.appPublicKey);
        if (!claims) return unauthorized;
        jwtClaims.push(claims);
        const token = `ghs_${randomBytes(18).toString('hex')}`;
        tokens.set(token, { installationId: Number(m[1]), body });
        return {
          status: 201,
          json: {
            token,
            expires_at: new Date(Date.now() + 3_600_000).toISOString(),
            permissions: body?.permissions ?? { contents: 'read' },
            repository_selection: 'selected',
          },
        };
      },
    ],
    [
      'POST',
      /^\/login\/oauth\/access_token$/,
      (_req, body) => {
        if (body?.client_id !== options.clientId || body?.client_secret !== options.clientSecret)
          return { status: 200, json: { error: 'incorrect_client_credentials' } };
        if (!options.users[body?.code])
          return { status: 200, json: { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' } };
        const token = `ghu_${randomBytes(18).toString('hex')}`;
        userTokens.set(token, body.code);
        return { status: 200, json: { access_token: token, token_type: 'bearer', scope: '' } };
      },
    ],
    [
      'GET',
      /^\/user\/installations$/,
      (req) => {
        const code = userTokens.get(/^(?:token|bearer) (\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '');
        const user = code ? options.users[code] : undefined;
        if (!user) return unauthorized;
        return {
          status: 200,
          json: { total_count: user.installations.length, installations: user.installations.map((i) => ({ id: i.id, account: { login: i.account } })) },
        };
      },
    ],
    [
      'GET',
      /^\/installation\/repositories$/,
      (req) => {
        const id = installationOf(req);
        if (id === null) return unauthorized;
        const repositories = options.repositories[id] ?? [];
        return { status: 200, json: { total_count: repositories.length, repositories } };
      },
    ],
    [
      'POST',
      /^\/repos\/[^/]+\/[^/]+\/statuses\/[0-9a-f]{40}$/,
      (req, body) => (installationOf(req) === null ? unauthorized : { status: 201, json: { id: 1, ...body } }),
    ],
    [
      'POST',
      /^\/repos\/[^/]+\/[^/]+\/issues\/\d+\/comments$/,
      (req, body) => (installationOf(req) === null ? unauthorized : { status: 201, json: { id: ++commentId, body: body?.body } }),
    ],
    [
      'PATCH',
      /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/,
      (req, body, m) => (installationOf(req) === null ? unauthorized : { status: 200, json: { id: Number(m[1]), body: body?.body } }),
    ],
  ];

  const answer = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    let body: any = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = raw;
    }
    const fault = faults.find((f) => f.times > 0 && f.match.test(path));
    let result: { status: number; json: unknown };
    if (fault) {
      fault.times--;
      result = { status: fault.status, json: { message: 'Server Error' } };
    } else {
      const route = routes.find(([method, pattern]) => method === req.method && pattern.test(path));
      result = route ? route[2](req, body, route[1].exec(path)!) : { status: 404, json: { message: 'Not Found' } };
    }
    requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body, status: result.status });
    res.writeHead(result.status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(result.json));
  };

  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      raw += chunk;
    });
    req.on('end', () => answer(req, res, raw));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    tokens,
    jwtClaims,
    failNext: (match, times, status = 502) => {
      faults.push({ match, times, status });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The claims of an App JWT whose RS256 signature the public key verifies; null otherwise. */
function verifyAppJwt(authorization: string | undefined, publicKey: string): Record<string, unknown> | null {
  const jwt = /^bearer (\S+)$/i.exec(authorization ?? '')?.[1];
  const parts = jwt?.split('.');
  if (parts?.length !== 3) return null;
  const [header, payload, signature] = parts as [string, string, string];
  if (JSON.parse(Buffer.from(header, 'base64url').toString()).alg !== 'RS256') return null;
  const ok = createVerify('RSA-SHA256').update(`${header}.${payload}`).verify(publicKey, Buffer.from(signature, 'base64url'));
  return ok ? (JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>) : null;
}
