import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HOST_ENV } from './infra-env.ts';

export interface GitHttpServer {
  url: string;
  /** The Authorization header of every request, in order. */
  authHeaders: (string | undefined)[];
  /** Every request URL, to prove no token travelled in one. */
  requestUrls: string[];
  close(): Promise<void>;
}

/**
 * A real git smart-HTTP server: Node in front of `git http-backend` (CGI), serving the
 * repositories under `projectRoot` only to requests carrying `Authorization: Basic` with the
 * given password, like a private GitHub repository with a token.
 */
/** `requiredPassword` null: a public repository, served to anyone (a build that clones without a token); a function: any password it accepts. */
export async function startGitHttpServer(projectRoot: string, requiredPassword: string | ((password: string) => boolean) | null): Promise<GitHttpServer> {
  const authHeaders: (string | undefined)[] = [];
  const requestUrls: string[] = [];
  const server = createServer((req, res) => {
    authHeaders.push(req.headers.authorization);
    requestUrls.push(req.url ?? '');
    if (requiredPassword !== null && !isAuthorized(req.headers, requiredPassword)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end('authentication required');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: HOST_ENV.PATH,
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        REMOTE_USER: 'git',
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.stdout.on('end', () => res.end());
    cgi.on('error', () => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    authHeaders,
    requestUrls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** `password`: the one accepted, or a check (tokens a stand-in for GitHub issued). */
function isAuthorized(headers: IncomingHttpHeaders, password: string | ((password: string) => boolean)): boolean {
  const match = /^Basic (.+)$/.exec(headers.authorization ?? '');
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString();
  const given = decoded.slice(decoded.indexOf(':') + 1);
  return typeof password === 'string' ? given === password : password(given);
}
