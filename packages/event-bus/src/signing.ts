import { createHmac, timingSafeEqual } from 'node:crypto';
import type { BuildEvent } from '@platform/contracts';

/**
 * Per-deployment signatures on build events. The api-server holds one platform secret; each
 * build gets only the key derived from it for its own deployment and project, so a build (or
 * whoever holds the build principal's Kafka password) can sign events for itself and for no
 * one else. The consumer re-derives the key from the event's own ids: an event signed for A
 * that names B fails, as does any change to a signed field. Each event is signed on its own
 * (not a batch), so batching several events into one record changes nothing here.
 */

/** Bumped if the derivation or the signed bytes ever change; part of the derivation input. */
const KEY_CONTEXT = 'platform/build-events/v1';

/** The hex key of one deployment: HMAC-SHA256(secret, context, deployment id, project id). */
export function deploymentEventKey(platformSecret: string, ids: { deploymentId: string; projectId: string }): string {
  // NUL cannot occur in either id, so the joined input names one (deployment, project) pair only.
  return createHmac('sha256', platformSecret).update(`${KEY_CONTEXT}\0${ids.deploymentId}\0${ids.projectId}`).digest('hex');
}

/** Every field an event may carry but `sig`, in sorted order (the signed bytes follow it). */
const SIGNED_FIELDS = ['commit', 'deploymentId', 'detail', 'message', 'projectId', 'seq', 'status', 'stream', 'ts', 'type'] as const;

/**
 * The bytes signed: the known fields but `sig`, sorted, undefined ones left out (as JSON
 * leaves them out), so a re-encoding (the relay's) or a round trip keeps the signature valid.
 * The consumer parses with the contract's schema, which drops unknown fields: a field added
 * to the contract must be added here, or it is not covered.
 */
function signedBytes(event: BuildEvent): string {
  const fields: [string, unknown][] = [];
  const record = event as Record<string, unknown>;
  for (const name of SIGNED_FIELDS) if (record[name] !== undefined) fields.push([name, record[name]]);
  return JSON.stringify(fields);
}

/** Hex keys as bytes, once per key (a build signs every event with the same one). */
const keyBytes = new Map<string, Buffer>();
function keyBuffer(key: string): Buffer {
  let bytes = keyBytes.get(key);
  if (!bytes) {
    bytes = Buffer.from(key, 'hex');
    if (keyBytes.size >= 10_000) keyBytes.delete(keyBytes.keys().next().value!);
    keyBytes.set(key, bytes);
  }
  return bytes;
}

function signature(event: BuildEvent, key: string): string {
  return createHmac('sha256', keyBuffer(key)).update(signedBytes(event)).digest('hex');
}

/** The event with its signature under `key` (the build's deployment key). */
export function signBuildEvent<E extends BuildEvent>(event: E, key: string): E {
  return { ...event, sig: signature(event, key) };
}

export type SignatureVerdict = 'valid' | 'unsigned' | 'bad_signature';

/** Derived keys of recent deployments, per platform secret: a consumer checks thousands of events of the same few builds a second. */
const derivedKeys = new Map<string, Map<string, string>>();
const MAX_CACHED_KEYS = 10_000;

function cachedKey(platformSecret: string, ids: { deploymentId: string; projectId: string }): string {
  let keys = derivedKeys.get(platformSecret);
  if (!keys) {
    keys = new Map();
    derivedKeys.set(platformSecret, keys);
  }
  const id = `${ids.deploymentId}\0${ids.projectId}`;
  let key = keys.get(id);
  if (!key) {
    key = deploymentEventKey(platformSecret, ids);
    if (keys.size >= MAX_CACHED_KEYS) keys.delete(keys.keys().next().value!);
    keys.set(id, key);
  }
  return key;
}

/** Checks an event's signature against the key its own ids derive from `platformSecret`. */
export function verifyBuildEvent(event: BuildEvent, platformSecret: string): SignatureVerdict {
  if (!event.sig) return 'unsigned';
  const expected = Buffer.from(signature(event, cachedKey(platformSecret, event)), 'hex');
  const given = Buffer.from(event.sig, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'valid' : 'bad_signature';
}

/** Signs events the platform itself emits (the api-server's closing notices) with the deployment's key. */
export function platformEventSigner(platformSecret: string | undefined): <E extends BuildEvent>(event: E) => E {
  if (!platformSecret) return (event) => event;
  return (event) => signBuildEvent(event, deploymentEventKey(platformSecret, event));
}
