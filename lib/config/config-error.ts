/**
 * Thrown when a tenant configuration is invalid. The message lists every problem found, one per
 * line, each naming the field (as a JSON path) and the fix. Nothing is synthesized when it is
 * thrown.
 */
export class TenantConfigError extends Error {
  /** One entry per problem: `<path>: <what is wrong and how to fix it>`. */
  public readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    super(
      `Invalid tenant configuration in ${source} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'TenantConfigError';
    this.problems = problems;
  }
}
