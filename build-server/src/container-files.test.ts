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
    // `exec`: the shell that points fd 3 (build events) at stdout is replaced by node, PID 1.
    expect(instructions.find((l) => l.startsWith('ENTRYPOINT '))).toBe('ENTRYPOINT ["/bin/sh", "-c", "exec node --import tsx src/main.ts 3>&1 1>&2"]');
    expect(instructions.some((l) => /tini|dumb-init/.test(l))).toBe(false);
  });
});

describe('build-server/ecs-task-definition.json', () => {
  const container = taskDefinition.containerDefinitions[0]!;
  it('is a Fargate task whose container the ECS runner can address', () => {
    expect(taskDefinition.requiresCompatibilities).toEqual(['FARGATE']);
    expect(container.name).toBe('build-server');
  });
  it("runs the supervisor as root with only the capabilities it needs to keep the user's commands on a uid of their own, on a read-only root, without an init process", () => {
    // Fargate lets a task drop capabilities, not add them (beyond SYS_PTRACE): root keeps
    // CHOWN, DAC_OVERRIDE, FOWNER, SETUID, SETGID and KILL from the default set, nothing else.
    expect(container.user).toBe('0:0');
    expect(container.readonlyRootFilesystem).toBe(true);
    expect(container.linuxParameters).toEqual({
      initProcessEnabled: false,
      capabilities: { drop: ['AUDIT_WRITE', 'FSETID', 'MKNOD', 'NET_BIND_SERVICE', 'NET_RAW', 'SETFCAP', 'SETPCAP', 'SYS_CHROOT'] },
    });
    const workDir = container.environment.find((e) => e.name === 'BUILD_WORK_DIR')?.value;
    expect(container.mountPoints.map((m) => m.containerPath)).toContain(workDir);
  });
});
