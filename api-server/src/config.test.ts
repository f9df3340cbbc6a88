import { describe, expect, it } from 'vitest';
import { loadApiConfig } from './config.ts';

describe('api-server config: runners and the scheduler', () => {
  it('defaults to the local runner with the scheduler and reconciler defaults', () => {
    const config = loadApiConfig({});
    expect(config).toMatchObject({
      RUNNER: 'local',
      MAX_CONCURRENT_BUILDS: 2,
      BUILD_LAUNCH_ATTEMPTS: 5,
      RECONCILE_INTERVAL_MS: 5_000,
      RECONCILE_SETTLE_MS: 5_000,
      CONTAINER_ENGINE: 'podman',
      CONTAINER_MEMORY: '2g',
      ECS_SUBNETS: [],
      ECS_ASSIGN_PUBLIC_IP: false,
    });
    expect(config.MAX_CONCURRENT_BUILDS_PER_PROJECT).toBeUndefined();
  });

  it('parses the container runner settings and treats empty values as unset', () => {
    const config = loadApiConfig({ RUNNER: 'container', CONTAINER_MEMORY: '512m', CONTAINER_CPUS: '1.5', CONTAINER_PIDS_LIMIT: '256', CONTAINER_NETWORK: '', MAX_CONCURRENT_BUILDS_PER_PROJECT: '1' });
    expect(config).toMatchObject({ RUNNER: 'container', CONTAINER_MEMORY: '512m', CONTAINER_CPUS: 1.5, CONTAINER_PIDS_LIMIT: 256, MAX_CONCURRENT_BUILDS_PER_PROJECT: 1 });
    expect(config.CONTAINER_NETWORK).toBeUndefined();
  });

  it('names the variable that is wrong', () => {
    expect(() => loadApiConfig({ RUNNER: 'kubernetes' })).toThrow(/^invalid configuration: RUNNER: /);
    expect(() => loadApiConfig({ CONTAINER_MEMORY: 'lots' })).toThrow('invalid configuration: CONTAINER_MEMORY: must be like 512m or 2g');
    expect(() => loadApiConfig({ CONTAINER_NETWORK: 'host; rm -rf /' })).toThrow('invalid configuration: CONTAINER_NETWORK: must be a network name');
    expect(() => loadApiConfig({ MAX_CONCURRENT_BUILDS_PER_PROJECT: '0' })).toThrow(/^invalid configuration: MAX_CONCURRENT_BUILDS_PER_PROJECT: /);
    expect(() => loadApiConfig({ ECS_LAUNCH_TYPE: 'FARGATE', ECS_CAPACITY_PROVIDER: 'FARGATE_SPOT' })).toThrow(
      'invalid configuration: ECS_CAPACITY_PROVIDER: cannot be combined with ECS_LAUNCH_TYPE',
    );
  });

  it('requires the cluster, task definition and subnets for RUNNER=ecs', () => {
    expect(() => loadApiConfig({ RUNNER: 'ecs', ECS_TASK_DEFINITION: 'build-server', ECS_SUBNETS: 'subnet-1' })).toThrow(
      'invalid configuration: ECS_CLUSTER: is required when RUNNER=ecs',
    );
    expect(() => loadApiConfig({ RUNNER: 'ecs', ECS_CLUSTER: 'builds', ECS_TASK_DEFINITION: 'build-server', ECS_SUBNETS: ' , ' })).toThrow(
      'invalid configuration: ECS_SUBNETS: is required when RUNNER=ecs (comma-separated subnet ids)',
    );
    // Until the distributed drivers are configured, a complete ECS setup is still refused, by name.
    expect(() => loadApiConfig({ RUNNER: 'ecs', ECS_CLUSTER: 'builds', ECS_TASK_DEFINITION: 'build-server', ECS_SUBNETS: 'subnet-1,subnet-2' })).toThrow(
      'invalid configuration: RUNNER: ecs needs the Kafka build-event transport',
    );
  });
});
