import type { Readable } from 'node:stream';
import { BUILD_EVENTS_TOPIC, buildEventSchema } from '@platform/contracts';
import { publishFrames, readPipeBatches, type EventBus } from '@platform/event-bus';

/**
 * Republishes what a build-server this runner launched writes on its event pipe. Only build
 * events of that build pass: a frame for another topic (request analytics), another deployment
 * or another project is dropped, and what passes is re-encoded from the parsed event with the
 * ids the runner launched it with, on the build-events topic, keyed by the deployment. The
 * supervisor alone holds the pipe (the user's commands run in a sandbox without it); this is
 * the check behind that wall. In batches: what arrived while a publish was in flight goes out
 * in one.
 */
export async function relayBuildEvents(
  stream: Readable,
  launched: { deploymentId: string; projectId: string },
  bus: EventBus,
  diag: (line: string) => void,
): Promise<void> {
  for await (const frames of readPipeBatches(stream, { onMalformed: (line) => diag(`malformed event frame: ${line.slice(0, 200)}`) })) {
    const accepted = [];
    for (const frame of frames) {
      const parsed = frame.topic === BUILD_EVENTS_TOPIC ? buildEventSchema.safeParse(safeJson(frame.value)) : null;
      if (!parsed?.success || parsed.data.deploymentId !== launched.deploymentId || parsed.data.projectId !== launched.projectId) {
        diag(`rejected event from build ${launched.deploymentId} (topic ${JSON.stringify(frame.topic).slice(0, 80)})`);
        continue;
      }
      const event = { ...parsed.data, deploymentId: launched.deploymentId, projectId: launched.projectId };
      accepted.push({ topic: BUILD_EVENTS_TOPIC, key: launched.deploymentId, value: JSON.stringify(event) });
    }
    await publishFrames(bus, accepted);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
