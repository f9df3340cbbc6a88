/**
 * Which Node.js a build runs: the project's setting, else `.nvmrc`, else `.node-version`
 * (app folder first, then the repository root), else `engines.node` of package.json, else the
 * build image's own. A request is a semver range; it gets the newest release of the newest
 * supported major that satisfies it (as Vercel reads `engines.node`).
 */
import { join } from 'node:path';
import semver from 'semver';
import { readRepoFile, RepoLinkError } from './repo-files.ts';

/**
 * Majors builds may ask for: the release lines still receiving security fixes (Node.js 20
 * is the build image's own). An older request fails, listing these.
 */
export const SUPPORTED_NODE_MAJORS = [20, 22, 24, 26] as const;

/** nvm's names of the LTS lines (`lts/jod`). */
const LTS_CODENAMES: Record<string, number> = { iron: 20, jod: 22, krypton: 24 };

export interface NodeRequest {
  /** A semver range (`22`, `>=20 <23`, `22.11.0`). */
  range: string;
  /** What asked, for the log: `.nvmrc`, `engines.node in package.json`, `project setting`. */
  source: string;
  /** What the source said, as written. */
  raw: string;
}

/** The request names no Node.js version, or none this platform builds with. */
export class NodeVersionError extends Error {}

const supportedList = () => SUPPORTED_NODE_MAJORS.join(', ');

/** Turns what a user wrote (`v22`, `lts/*`, `>=20`, `22.x`) into a semver range. */
export function normalizeNodeRequest(raw: string, source: string): NodeRequest {
  const text = raw.trim();
  const lower = text.toLowerCase();
  const newest = SUPPORTED_NODE_MAJORS[SUPPORTED_NODE_MAJORS.length - 1];
  let range: string | null;
  if (lower === 'node' || lower === 'latest' || lower === 'current' || lower === 'stable' || lower === 'lts/*' || lower === 'lts') {
    // Every supported even major is an LTS line once it is the newest: the newest is the answer to both.
    range = `${newest}.x`;
  } else if (lower.startsWith('lts/')) {
    const major = LTS_CODENAMES[lower.slice(4)];
    if (major === undefined)
      throw new NodeVersionError(`${source} asks for Node.js "${text}", an LTS line this platform does not build with; supported: ${supportedList()}`);
    range = `${major}.x`;
  } else {
    range = semver.validRange(text.replace(/^v(?=\d)/i, ''));
  }
  if (!range) throw new NodeVersionError(`${source} asks for Node.js "${text.slice(0, 80)}", which is not a version or a version range`);
  return { range, source, raw: text };
}

async function firstLine(repoDir: string, path: string): Promise<string | null> {
  try {
    const text = await readRepoFile(repoDir, path);
    // nvm ignores comments and blank lines; the first real line is the version.
    return (
      text
        .split('\n')
        .map((l) => l.replace(/#.*/, '').trim())
        .find(Boolean) ?? null
    );
  } catch (err) {
    if (err instanceof RepoLinkError) throw new NodeVersionError(err.message);
    return null;
  }
}

/** What the project asks for, or null: the build image's Node.js. */
export async function detectNodeRequest(options: { repoDir: string; appDir: string; setting?: string; enginesNode?: unknown }): Promise<NodeRequest | null> {
  if (options.setting) return normalizeNodeRequest(options.setting, 'the project setting');
  const dirs = options.appDir === options.repoDir ? [options.appDir] : [options.appDir, options.repoDir];
  for (const file of ['.nvmrc', '.node-version']) {
    for (const dir of dirs) {
      const line = await firstLine(options.repoDir, join(dir, file));
      if (line) return normalizeNodeRequest(line, dir === options.appDir ? file : `${file} at the repository root`);
    }
  }
  if (typeof options.enginesNode === 'string' && options.enginesNode.trim()) {
    return normalizeNodeRequest(options.enginesNode, '"engines.node" in package.json');
  }
  return null;
}

/**
 * The major a request gets: the newest supported one its range allows. Null when the range
 * allows none of them (the caller fails the build with the supported list).
 */
export function chooseMajor(request: NodeRequest): number | null {
  for (const major of [...SUPPORTED_NODE_MAJORS].reverse()) {
    if (semver.intersects(request.range, `${major}.x`)) return major;
  }
  return null;
}

export function unsupportedMessage(request: NodeRequest): string {
  return `${request.source} asks for Node.js "${request.raw}", which this platform does not build with; supported majors: ${supportedList()}`;
}
