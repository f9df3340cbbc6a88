import {
  DescribeTasksCommand,
  ECSClient,
  RunTaskCommand,
  StopTaskCommand,
  type ECSClientConfig,
  type RunTaskCommandInput,
  type RunTaskCommandOutput,
} from '@aws-sdk/client-ecs';
import { BUILD_TASK_ENV, encodeBuildTaskEnv, type BuildTask, type BuildTaskRequest } from '@platform/contracts';
import { RunnerStartError, type Runner, type RunnerIsolation, type RunnerTaskState, type StartedTask } from './runner.ts';

export interface EcsRunnerOptions {
  /** Region, endpoint (moto, LocalStack), credentials; the SDK's default chain when absent. */
  client?: ECSClientConfig;
  /** An existing client (tests pass a mocked one). */
  ecs?: Pick<ECSClient, 'send' | 'destroy'>;
  cluster: string;
  /** Family, family:revision or ARN of the build-server task definition. */
  taskDefinition: string;
  /** Name of the build-server container in that task definition. */
  containerName: string;
  /** `FARGATE` by default; or a capacity provider (e.g. `FARGATE_SPOT`), which excludes a launch type. */
  launchType?: 'FARGATE' | 'EC2' | 'EXTERNAL';
  capacityProvider?: string;
  subnets: readonly string[];
  securityGroups?: readonly string[];
  /** Public IP on the task's network interface: needed in a public subnet without a NAT gateway. */
  assignPublicIp?: boolean;
  /** Extra tags on every task (e.g. cost allocation). The deployment and project ids are always added. */
  tags?: Record<string, string>;
}

/** ECS's limit on the total size of a RunTask's overrides. */
const MAX_OVERRIDE_CHARS = 8_192;

/** RunTask `failures[].reason` values that describe a momentary lack of capacity, worth retrying. */
const RETRYABLE_FAILURE = /^(RESOURCE:|AGENT|CAPACITY|Capacity is unavailable|.*(insufficient|capacity|throttl|rate exceeded))/i;

/**
 * Runs each build as an AWS ECS task (Fargate by default). The task's events travel through
 * the task's own transport (Kafka): ECS has no pipe back to this process. Tasks outlive an
 * api-server restart; `describe` reads their fate from ECS (`stoppedReason` and the build
 * container's exit code), so the reconciler settles deployments whose task died silently.
 */
export function createEcsRunner(options: EcsRunnerOptions): Runner {
  return new EcsRunner(options);
}

class EcsRunner implements Runner {
  readonly name = 'ecs';
  readonly isolation: RunnerIsolation = {
    singleUser: false,
    summary:
      "each build in an ECS task of its own; inside it, the user's commands in a bubblewrap sandbox where the kernel allows it, else as uid 1001 apart from the build-server",
    problems: [],
  };
  private readonly ecs: Pick<ECSClient, 'send' | 'destroy'>;

  constructor(private readonly options: EcsRunnerOptions) {
    this.ecs = options.ecs ?? new ECSClient(options.client ?? {});
    if (options.launchType && options.capacityProvider) throw new Error('ECS: give a launch type or a capacity provider, not both');
  }

  async start(request: BuildTaskRequest): Promise<StartedTask> {
    // Inside the task the build-server takes bubblewrap where Fargate's kernel policy allows
    // user namespaces, else runs the user's commands as a uid of their own (the task
    // definition runs the build-server as root with CAP_SETUID; see infra/iam/README.md).
    const task = { ...request, sandbox: { isolation: 'auto' as const, uid: 1001, gid: 1001 } };
    let result: RunTaskCommandOutput;
    try {
      result = await this.ecs.send(new RunTaskCommand(this.runTaskInput(task)));
    } catch (err) {
      throw new RunnerStartError(`ECS RunTask failed: ${describeError(err)}`, isRetryableError(err));
    }
    const arn = result.tasks?.[0]?.taskArn;
    if (arn) return { taskId: arn };
    const failures = result.failures ?? [];
    const reasons = failures.map((f) => [f.reason, f.detail].filter(Boolean).join(': ')).join('; ') || 'no task and no failure reported';
    throw new RunnerStartError(`ECS RunTask started no task: ${reasons}`, failures.length > 0 && failures.every((f) => RETRYABLE_FAILURE.test(f.reason ?? '')));
  }

  /** The RunTask request of one build; throws a non-retryable RunnerStartError when the task does not fit in its overrides. */
  private runTaskInput(task: BuildTask): RunTaskCommandInput {
    const { options } = this;
    const environment = Object.entries(encodeBuildTaskEnv(task)).map(([name, value]) => ({ name, value }));
    const overrides = { containerOverrides: [{ name: options.containerName, environment }] };
    if (JSON.stringify(overrides).length > MAX_OVERRIDE_CHARS) {
      throw new RunnerStartError(
        `the build task is too large for ECS container overrides (over ${MAX_OVERRIDE_CHARS} characters in ${BUILD_TASK_ENV}); reduce the build environment variables`,
        false,
      );
    }
    return {
      cluster: options.cluster,
      taskDefinition: options.taskDefinition,
      count: 1,
      ...(options.capacityProvider
        ? { capacityProviderStrategy: [{ capacityProvider: options.capacityProvider, weight: 1 }] }
        : { launchType: options.launchType ?? 'FARGATE' }),
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: [...options.subnets],
          ...(options.securityGroups?.length ? { securityGroups: [...options.securityGroups] } : {}),
          assignPublicIp: options.assignPublicIp ? 'ENABLED' : 'DISABLED',
        },
      },
      overrides,
      // Same token on a retried call: ECS starts the task once even if an earlier reply was lost.
      clientToken: task.deploymentId,
      startedBy: `deployment-${task.deploymentId}`.slice(0, 36),
      tags: [
        { key: 'platform:deployment-id', value: task.deploymentId },
        { key: 'platform:project-id', value: task.projectId },
        ...Object.entries(options.tags ?? {}).map(([key, value]) => ({ key, value })),
      ],
      enableECSManagedTags: true,
      propagateTags: 'TASK_DEFINITION',
    };
  }

  async stop(taskId: string, reason: string): Promise<void> {
    try {
      await this.ecs.send(new StopTaskCommand({ cluster: this.options.cluster, task: taskId, reason: reason.slice(0, 255) }));
    } catch (err) {
      // A task that ECS no longer knows has stopped already.
      if ((err as { name?: string }).name === 'InvalidParameterException' && /not found|does not exist/i.test(String((err as Error).message))) return;
      throw err;
    }
  }

  async describe(taskId: string): Promise<RunnerTaskState> {
    const result = await this.ecs.send(new DescribeTasksCommand({ cluster: this.options.cluster, tasks: [taskId] }));
    const task = result.tasks?.find((t) => t.taskArn === taskId) ?? result.tasks?.[0];
    if (!task) return { state: 'unknown' };
    if (task.lastStatus !== 'STOPPED') return { state: 'running' };
    const container = task.containers?.find((c) => c.name === this.options.containerName) ?? task.containers?.[0];
    const exitCode = container?.exitCode;
    const reason = [
      task.stoppedReason,
      container?.reason,
      exitCode === 137 ? 'exit code 137: the container was killed (SIGKILL, often its memory limit)' : undefined,
    ]
      .filter((s): s is string => Boolean(s))
      .join('; ');
    return {
      state: 'stopped',
      ...(exitCode !== undefined ? { exitCode } : {}),
      ...(reason ? { reason } : {}),
      ...(task.stoppedAt ? { stoppedAt: task.stoppedAt.getTime() } : {}),
    };
  }

  async close(): Promise<void> {
    // Tasks keep running: ECS owns them, and the next api-server start reconciles them.
    if (!this.options.ecs) this.ecs.destroy();
  }
}

function describeError(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return [e.name, e.message].filter(Boolean).join(': ') || String(err);
}

/** Throttling and server-side faults are worth another try; a client error (bad input, no permission) is not. */
function isRetryableError(err: unknown): boolean {
  const e = err as { name?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number }; $fault?: string };
  if (e.$retryable) return true;
  if (/throttl|rate ?exceeded|toomanyrequests|serviceunavailable|serverexception|timeout/i.test(e.name ?? '')) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status === 429 || (status !== undefined && status >= 500)) return true;
  if (e.$fault === 'server') return true;
  // Network errors (no response at all).
  return status === undefined && /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|socket hang up/i.test(String((err as Error)?.message));
}
