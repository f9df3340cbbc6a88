import { io, type Socket } from 'socket.io-client';
import type { LiveLogMessage, LiveStatusMessage, LogsPage, SubscribeAck } from '@platform/contracts';
import type { ApiClient } from '../api.ts';
import type { CommandContext } from '../context.ts';
import { CliError } from '../errors.ts';
import type { Output } from '../output.ts';

export const LOGS_HELP = `plat logs <deployment id> [--follow] [--json]

Prints a deployment's build log. With --follow, streams it live over the API's socket until
the deployment ends (READY, ERROR or CANCELED), resuming after the last line received when
the connection drops; the exit code is then non-zero for ERROR and CANCELED.

  --follow   keep streaming until the deployment ends
  --json     one JSON object per line ({ seq, ts, stream, message })`;

const TERMINAL = new Set(['READY', 'ERROR', 'CANCELED']);

export async function logs(ctx: CommandContext): Promise<number> {
  const deploymentId = ctx.args.positional[0];
  if (!deploymentId) throw new CliError('name the deployment: plat logs <deployment id>');
  const api = await ctx.api();
  if (ctx.args.flags.get('follow') !== true) {
    await printHistory(api, deploymentId, ctx);
    return 0;
  }
  const status = await follow(api, deploymentId, ctx);
  return status === 'READY' ? 0 : 1;
}

async function printHistory(api: ApiClient, deploymentId: string, ctx: CommandContext): Promise<void> {
  let afterSeq = 0;
  for (;;) {
    const page = await api.request<LogsPage>('GET', `/deployments/${encodeURIComponent(deploymentId)}/logs`, { query: { afterSeq: String(afterSeq) } });
    for (const line of page.lines) printLine(ctx, line);
    if (!page.hasMore || page.nextAfterSeq === null) return;
    afterSeq = page.nextAfterSeq;
  }
}

function printLine(ctx: CommandContext, line: Pick<LiveLogMessage, 'seq' | 'ts' | 'stream' | 'message'>): void {
  if (ctx.json) ctx.out.result(JSON.stringify({ seq: line.seq, ts: line.ts, stream: line.stream, message: line.message }));
  else ctx.out.result(line.stream === 'system' ? ctx.out.paint('2', line.message) : line.message);
}

/**
 * Streams over socket.io until a terminal status. Every (re)connection subscribes after the
 * last seq printed, so a dropped connection resumes without gaps or repeats.
 */
async function follow(api: ApiClient, deploymentId: string, ctx: CommandContext): Promise<string> {
  let lastSeq = 0;
  const socket: Socket = io(api.baseUrl, { transports: ['websocket'], auth: { token: api.token }, reconnection: true, reconnectionDelayMax: 5_000 });
  try {
    return await new Promise<string>((resolve, reject) => {
      const subscribe = () => {
        socket.emit('subscribe', { deploymentId, afterSeq: lastSeq }, (ack: SubscribeAck) => {
          if (!ack.ok) reject(new CliError(`cannot follow ${deploymentId}: ${ack.error}`));
        });
      };
      socket.on('connect', subscribe);
      socket.on('connect_error', (err) => {
        if (/unauthenticated|invalid/i.test(err.message))
          reject(new CliError(`the API refused the socket (${err.message}): run plat login, or set PLAT_TOKEN`));
      });
      socket.on('log', (line: LiveLogMessage) => {
        if (line.deploymentId !== deploymentId || line.seq <= lastSeq) return;
        lastSeq = line.seq;
        printLine(ctx, line);
      });
      socket.on('status', (message: LiveStatusMessage) => {
        if (message.deploymentId !== deploymentId) return;
        lastSeq = Math.max(lastSeq, message.seq);
        if (TERMINAL.has(message.status)) {
          reportEnd(ctx.out, message);
          resolve(message.status);
        }
      });
      // Fell too far behind: subscribe again after what was printed.
      socket.on('stream-error', () => subscribe());
    });
  } finally {
    socket.disconnect();
  }
}

function reportEnd(out: Output, message: LiveStatusMessage): void {
  const colour = message.status === 'READY' ? '32' : '31';
  out.note(out.paint(colour, `Deployment ${message.status}${message.detail ? `: ${message.detail}` : ''}`));
}
