// Before any test: build the web console from its sources into dist/console, so the server under test
// serves the console as the code now stands (not a build left from an earlier checkout).
import { build } from 'vite';

export default async function setup(): Promise<void> {
  await build({ configFile: new URL('../web/vite.config.ts', import.meta.url).pathname, logLevel: 'warn' });
}
