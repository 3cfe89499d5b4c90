// `signoff <command>`: the server (`serve`) and a client of its REST API for everything else.
import { isAppError } from '../errors.js';
import { commands } from './commands/index.js';

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    process.stderr.write(`signoff: unknown command ${name}\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(args, process.env);
  } catch (error) {
    process.stderr.write(
      `signoff ${name}: ${isAppError(error) || error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
}

function usage(): string {
  const width = Math.max(...commands.map((command) => command.usage.length));
  return [
    'Usage: signoff <command> [options]',
    '',
    ...commands.map((command) => `  ${command.usage.padEnd(width)}  ${command.summary}`),
    '',
    'The client commands talk to the server at SIGNOFF_URL (default http://localhost:8080) with the API',
    'token in SIGNOFF_TOKEN.',
    '',
  ].join('\n');
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exitCode = 1;
  },
);
