import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The image and the ECS task definition carry security decisions the code relies on; these
// checks keep a later edit from quietly undoing them.
const root = join(import.meta.dirname, '..');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const instructions = dockerfile.split('\n').filter((l) => /^[A-Z]+\s/.test(l));
const taskDefinition = JSON.parse(readFileSync(join(root, 'ecs-task-definition.json'), 'utf8')) as {
  requiresCompatibilities: string[];
  containerDefinitions: {
    name: string;
    user: string;
    readonlyRootFilesystem: boolean;
    mountPoints: { containerPath: string }[];
    linuxParameters: { initProcessEnabled: boolean; capabilities: { drop: string[] } };
    environment: { name: string; value: string }[];
  }[];
};

describe('build-server/Dockerfile', () => {
  it('starts from an exact Node 20 slim release', () => {
    expect(instructions[0]).toMatch(/^FROM node:20\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
  });
  it('installs git and certificates, and runs as a non-root user', () => {
    expect(dockerfile).toMatch(/apt-get install[^\n]* git ca-certificates/);
    const user = instructions.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/USER (root|0)\b/);
  });
  it('runs main.ts in one process as PID 1, with no init holding the original environment', () => {
    expect(instructions.find((l) => l.startsWith('ENTRYPOINT '))).toBe('ENTRYPOINT ["node", "--import", "tsx", "src/main.ts"]');
    expect(instructions.some((l) => /tini|dumb-init/.test(l))).toBe(false);
  });
});

describe('build-server/ecs-task-definition.json', () => {
  const container = taskDefinition.containerDefinitions[0]!;
  it('is a Fargate task whose container the ECS runner can address', () => {
    expect(taskDefinition.requiresCompatibilities).toEqual(['FARGATE']);
    expect(container.name).toBe('build-server');
  });
  it('runs unprivileged on a read-only root, without an init process, with its work folder on a volume', () => {
    expect(container.user).not.toMatch(/^(0|root)\b/);
    expect(container.readonlyRootFilesystem).toBe(true);
    expect(container.linuxParameters).toEqual({ initProcessEnabled: false, capabilities: { drop: ['ALL'] } });
    const workDir = container.environment.find((e) => e.name === 'BUILD_WORK_DIR')?.value;
    expect(container.mountPoints.map((m) => m.containerPath)).toContain(workDir);
  });
});
