import type { Readable } from 'node:stream';
import type { Command, ParsedSandboxSettings } from '@platform/contracts';

/** How one of the user's commands ended. */
export interface SandboxExit {
  /** Null when it was killed by a signal or could not start. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the command could not be started at all (not found, or the sandbox failed). */
  spawnError?: string;
}

/** One of the user's commands, running inside the sandbox. */
export interface SandboxedProcess {
  readonly stdout: Readable;
  readonly stderr: Readable;
  /**
   * Resolves when the command ended. With namespaces, everything it started ended with it (a
   * pid namespace ends with its first process): no `setsid`, double fork or daemon survives.
   */
  readonly exited: Promise<SandboxExit>;
  /** Ends the command and every process it started, at once. */
  kill(): Promise<void>;
  /** Why the sandbox ended or starved the command, when a limit did: "ran out of memory (limit 2.0 GiB)". */
  limitReason(): string | undefined;
}

export interface SpawnOptions {
  /** Working directory: inside the sandbox's work folder. */
  cwd: string;
  /** Exactly the environment the command gets (the supervisor builds it without credentials). */
  env: Record<string, string>;
}

/**
 * Where the user's commands run (install, build and everything they spawn). The supervisor,
 * the build-server, is trusted; what runs in here is not. The supervisor fills the work folder
 * (clone, restored cache), hands it over, runs commands, and reads the output only once no
 * process of the sandbox is left.
 */
export interface Sandbox {
  /** The isolation the commands actually get. */
  readonly settings: ParsedSandboxSettings;
  /** One line for the build log: what the build can and cannot reach. */
  readonly description: string;
  /** The build's writable folder: the only place the commands may write (plus their own /tmp). */
  readonly workDir: string;
  /** Makes what the supervisor wrote under the work folder writable by the sandbox's user. */
  handOver(dir: string): Promise<void>;
  spawn(command: Command, options: SpawnOptions): Promise<SandboxedProcess>;
  /** Ends anything still running and releases the sandbox's limits (cgroups, scratch disk). */
  close(): Promise<void>;
}
