import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BUILD_EVENTS_TOPIC, REQUEST_LOGS_TOPIC } from '@platform/contracts';
import { createInProcessEventBus } from '@platform/event-bus';
import { relayBuildEvents } from './relay.ts';

const frame = (topic: string, value: unknown) => `${JSON.stringify({ topic, key: 'k', value: JSON.stringify(value) })}\n`;
const status = (deploymentId: string, projectId: string, seq: number) => ({ type: 'status', deploymentId, projectId, seq, ts: 1, status: 'READY' });

describe('relayBuildEvents', () => {
  it("passes only the launched build's events, on the build-events topic, and drops request-log and other tenants' frames", async () => {
    const bus = createInProcessEventBus();
    const builds: unknown[] = [];
    const requests: unknown[] = [];
    await bus.subscribe(BUILD_EVENTS_TOPIC, { groupId: 'b' }, async (m) => void builds.push(...m.map((x) => ({ key: x.key, ...JSON.parse(x.value) }))));
    await bus.subscribe(REQUEST_LOGS_TOPIC, { groupId: 'r' }, async (m) => void requests.push(...m));
    const pipe = new PassThrough();
    const rejected: string[] = [];
    const relay = relayBuildEvents(pipe, { deploymentId: 'dep1', projectId: 'prj1' }, bus, (line) => rejected.push(line));
    pipe.write(frame(BUILD_EVENTS_TOPIC, { ...status('dep1', 'prj1', 1), injected: 'field' }));
    pipe.write(frame(BUILD_EVENTS_TOPIC, status('dep2', 'prj1', 2))); // another deployment
    pipe.write(frame(BUILD_EVENTS_TOPIC, status('dep1', 'prj-victim', 3))); // another project
    pipe.write(frame(REQUEST_LOGS_TOPIC, { ts: 1, projectId: 'prj-victim', path: '/injected' })); // analytics
    pipe.write(frame('anything-else', status('dep1', 'prj1', 4)));
    pipe.end();
    await relay;
    for (let i = 0; i < 50 && builds.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    // Re-encoded from the schema: keyed by the deployment, unknown fields gone.
    expect(builds).toEqual([{ key: 'dep1', ...status('dep1', 'prj1', 1) }]);
    expect(requests).toEqual([]);
    expect(rejected).toHaveLength(4);
    await bus.close();
  });
});
