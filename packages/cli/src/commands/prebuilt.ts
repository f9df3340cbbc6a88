import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseCommandLine, type Command } from '@platform/contracts';
import { CliError } from '../errors.ts';
import type { LocalFileInput } from '../files.ts';
import type { Output } from '../output.ts';

const OUTPUT_CANDIDATES = ['dist', 'build', 'out', 'public'];

/**
 * `--prebuilt`: runs the build here (the user's own machine and toolchain, no sandbox: it is
 * their code on their computer), then deploys the output folder. The root's vercel.json goes
 * with it, so the routing is the same as a build's on the platform.
 */
export async function buildLocally(dir: string, out: Output): Promise<{ dir: string; extra: LocalFileInput[] }> {
  const config = await readJson(join(dir, 'vercel.json'));
  const pkg = await readJson(join(dir, 'package.json'));
  const command = buildCommand(config, pkg);
  if (!command) throw new CliError('--prebuilt: no build command (set buildCommand in vercel.json or a "build" script in package.json)');
  out.note(`Building locally: ${command.join(' ')}`);
  await run(command, dir);
  const outputName = typeof config?.outputDirectory === 'string' ? config.outputDirectory : OUTPUT_CANDIDATES.find((d) => existsSync(join(dir, d)));
  if (!outputName) throw new CliError(`--prebuilt: the build made none of ${OUTPUT_CANDIDATES.join(', ')} (set outputDirectory in vercel.json)`);
  const output = resolve(dir, outputName);
  if (!(await lstat(output).catch(() => null))?.isDirectory()) throw new CliError(`--prebuilt: the output folder ${outputName} does not exist after the build`);
  const extra: LocalFileInput[] = [];
  if (config && output !== dir && !existsSync(join(output, 'vercel.json'))) {
    const absolute = join(dir, 'vercel.json');
    extra.push({ path: 'vercel.json', absolute, size: (await lstat(absolute)).size });
  }
  return { dir: output, extra };
}

function buildCommand(config: Record<string, unknown> | null, pkg: Record<string, unknown> | null): Command | null {
  if (typeof config?.buildCommand === 'string') return parseCommandLine(config.buildCommand);
  const scripts = pkg?.scripts as Record<string, unknown> | undefined;
  if (typeof scripts?.build === 'string') return ['npm', 'run', 'build'];
  return null;
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CliError(`${path} is not valid JSON`);
  }
}

/** Runs the command as an argument array (no shell), its output on our stderr. */
function run(command: Command, cwd: string): Promise<void> {
  return new Promise((done, fail) => {
    const [program, ...args] = command as [string, ...string[]];
    const child = spawn(program, args, { cwd, stdio: ['ignore', process.stderr, process.stderr] });
    child.on('error', (err) => fail(new CliError(`--prebuilt: could not run ${program}: ${err.message}`)));
    child.on('close', (code) => (code === 0 ? done() : fail(new CliError(`--prebuilt: the build exited with code ${code}`))));
  });
}
