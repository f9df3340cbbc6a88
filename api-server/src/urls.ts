import { branchSlug, deploymentShortId } from '@platform/contracts';

/** Hostnames per DESIGN and the public URLs built from them. */
export class Urls {
  constructor(private readonly options: { rootDomain: string; scheme: 'http' | 'https'; port?: number }) {}

  get rootDomain(): string {
    return this.options.rootDomain;
  }

  productionHost(projectSlug: string): string {
    return `${projectSlug}.${this.options.rootDomain}`;
  }

  deploymentHost(projectSlug: string, deploymentId: string): string {
    return `${projectSlug}-${deploymentShortId(deploymentId)}.${this.options.rootDomain}`;
  }

  branchHost(projectSlug: string, branch: string): string {
    return `${projectSlug}-git-${branchSlug(branch)}.${this.options.rootDomain}`;
  }

  /** `<project>-pr-<number>`: the newest ready preview of a pull request. */
  pullRequestHost(projectSlug: string, number: number): string {
    return `${projectSlug}-pr-${number}.${this.options.rootDomain}`;
  }

  url(host: string): string {
    const { scheme, port } = this.options;
    const defaultPort = scheme === 'https' ? 443 : 80;
    return `${scheme}://${host}${port && port !== defaultPort ? `:${port}` : ''}`;
  }
}
