/** GitHub as the platform meets it: real webhook payloads, their signature, and deliveries posted the way GitHub posts them. */
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { jsonOrUndefined } from './http.ts';

const require = createRequire(import.meta.url);

interface WebhookExamples {
  name: string;
  examples: Record<string, unknown>[];
}

/** Real GitHub webhook payloads, as GitHub sends them, from `@octokit/webhooks-examples`. */
export function githubExamples(event: string): Record<string, any>[] {
  const all = require('@octokit/webhooks-examples/api.github.com/index.json') as WebhookExamples[];
  const found = all.find((e) => e.name === event);
  if (!found) throw new Error(`no ${event} examples`);
  return found.examples.map((e) => structuredClone(e));
}

/** A branch push from the examples (not a tag, not a deletion). */
export function githubBranchPush(): Record<string, any> {
  const push = githubExamples('push').find((p) => String(p.ref).startsWith('refs/heads/') && !p.deleted);
  if (!push) throw new Error('no branch push example');
  return push;
}

/** `X-Hub-Signature-256` as GitHub computes it: HMAC-SHA256 of the exact body bytes. */
export function githubSignature(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Posts a delivery the way GitHub does: JSON body, event, delivery GUID and signature headers. */
export async function deliverGithub(
  api: string,
  event: string,
  body: string,
  options: { secret?: string; signature?: string; deliveryId?: string; query?: string; contentType?: string },
) {
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/json',
    'user-agent': 'GitHub-Hookshot/abc1234',
    'x-github-event': event,
    'x-github-delivery': options.deliveryId ?? crypto.randomUUID(),
    'x-github-hook-id': '292430182',
  };
  const signature = options.signature ?? (options.secret !== undefined ? githubSignature(options.secret, body) : undefined);
  if (signature) headers['x-hub-signature-256'] = signature;
  const res = await fetch(`${api}/webhooks/github${options.query ?? ''}`, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, json: jsonOrUndefined(text), text };
}
