// What every client command shares: `-h/--help`, usage errors (exit code 2), the API client and the output.
import { parseArgs } from 'node:util';
import { type ClientConfig, readClientConfig, SignoffClient } from '../client.js';
import type { Command } from '../command.js';
import { createOutput, type Output } from '../render.js';

/** A mistake in how the command was called: shown with the usage line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Context {
  env: Record<string, string | undefined>;
  out: Output;
  /** The API client, configured from SIGNOFF_URL and SIGNOFF_TOKEN (read when first asked for). */
  client(): SignoffClient;
  config(): ClientConfig;
}

export interface ClientCommand {
  name: string;
  usage: string;
  summary: string;
  /** Shown by `signoff <name> --help` after the usage line. */
  help: string;
  run(args: string[], context: Context): Promise<number>;
}

export const jsonOption = { json: { type: 'boolean' } } as const;

export function defineCommand(spec: ClientCommand): Command {
  return {
    name: spec.name,
    usage: spec.usage,
    summary: spec.summary,
    async run(args, env) {
      const out = createOutput(env);
      const end = args.indexOf('--');
      const own = end === -1 ? args : args.slice(0, end);
      if (own.includes('-h') || own.includes('--help')) {
        out.print(`Usage: signoff ${spec.usage}\n\n${spec.summary}.\n\n${spec.help.trim()}`);
        return 0;
      }
      let config: ClientConfig | undefined;
      let client: SignoffClient | undefined;
      const context: Context = {
        env,
        out,
        config: () => {
          config ??= readClientConfig(env);
          return config;
        },
        client: () => {
          client ??= new SignoffClient(context.config());
          return client;
        },
      };
      try {
        return await spec.run(args, context);
      } catch (error) {
        const parseError = (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
        if (error instanceof UsageError || parseError) {
          out.note(`signoff ${spec.name}: ${(error as Error).message}`);
          out.note(`Usage: signoff ${spec.usage}   (signoff ${spec.name} --help for more)`);
          return 2;
        }
        throw error;
      }
    },
  };
}

/** A run id as given on the command line: `42` or `#42`. */
export function runId(text: string | undefined, what = 'run'): number {
  if (text === undefined) throw new UsageError(`say which ${what}: give its id (see \`signoff runs\`)`);
  const id = Number(text.replace(/^#/, ''));
  if (!Number.isSafeInteger(id) || id <= 0)
    throw new UsageError(`${text} is not a run id (a positive whole number)`);
  return id;
}

export function expectPositionals(positionals: string[], max: number): void {
  if (positionals.length > max) throw new UsageError(`unexpected argument ${positionals[max]}`);
}

/** The arguments of a command whose one option is `--json`, with at most `max` positionals. */
export function jsonOnlyArgs(args: string[], max: number): { json: boolean; positionals: string[] } {
  const { values, positionals } = parseArgs({
    args,
    options: { ...jsonOption },
    allowPositionals: true,
    strict: true,
  });
  expectPositionals(positionals, max);
  return { json: values.json === true, positionals };
}

/** `<run> [--json]`: the arguments of the commands that act on one run. */
export function runIdArgs(args: string[]): { id: number; json: boolean } {
  const { json, positionals } = jsonOnlyArgs(args, 1);
  return { id: runId(positionals[0]), json };
}

/** Path segments are user input: encode them so a name never changes the route. */
export const segment = encodeURIComponent;

export function printJson(out: Output, value: unknown): void {
  out.print(JSON.stringify(value, null, 2));
}
