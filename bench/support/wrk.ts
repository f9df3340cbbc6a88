/**
 * Load generation for the benches: wrk (Debian's package) against a port with a Host header,
 * or with a Lua script that picks the Host per request; requests per second and p99 latency.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface WrkOptions {
  port: number;
  path: string;
  seconds: number;
  threads: number;
  connections: number;
  /** A fixed Host header; or `script`, a Lua file choosing it. */
  host?: string;
  script?: string;
}

export interface WrkResult {
  requestsPerSecond: number;
  p99Ms: number;
}

export async function wrk(o: WrkOptions): Promise<WrkResult> {
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.seconds}s`, '--latency'];
  if (o.host) args.push('-H', `Host: ${o.host}`);
  if (o.script) args.push('-s', o.script);
  args.push(`http://127.0.0.1:${o.port}${o.path}`);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('wrk', args);
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited with ${code}: ${text}`))));
  });
  if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`wrk saw error responses from port ${o.port}:\n${out}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)\b/m.exec(out);
  if (!rps || !p99) throw new Error(`could not read wrk's output:\n${out}`);
  const unit = { us: 0.001, ms: 1, s: 1000 }[p99[2] as 'us' | 'ms' | 's'];
  return { requestsPerSecond: Number(rps[1]), p99Ms: Number(p99[1]) * unit };
}

/** A Lua script for wrk that sends each request with one of `hosts`, round-robin per thread. */
export function hostRotationScript(hosts: readonly string[]): string {
  const list = hosts.map((h) => JSON.stringify(h)).join(',\n');
  return `local hosts = {\n${list}\n}
local i = 0
function setup(thread) thread:set("offset", math.random(#hosts)) end
function init() i = tonumber(wrk.thread:get("offset")) or 0 end
request = function()
  i = i % #hosts + 1
  return wrk.format("GET", nil, { Host = hosts[i] })
end
`;
}

export function get(port: number, host: string, path: string): Promise<{ status: number; length: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let length = 0;
      res.on('data', (c: Buffer) => (length += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, length }));
    });
    req.on('error', reject);
    req.end();
  });
}

export async function waitUntilServing(port: number, host: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await get(port, host, '/');
      return;
    } catch (err) {
      if (Date.now() > until) throw new Error(`nothing answered on port ${port}: ${(err as Error).message}`);
      await sleep(100);
    }
  }
}

/** Resident memory of a process in MiB, from /proc. */
export function residentMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The p-th percentile (0..100) of samples, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
