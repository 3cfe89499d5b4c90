export interface Command {
  name: string;
  usage: string;
  summary: string;
  /** Returns the process exit code. */
  run(args: string[], env: Record<string, string | undefined>): Promise<number>;
}
