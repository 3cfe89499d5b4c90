// Before any test: build the web console from its sources into dist/console, as `npm run build` does
// (production React), so the server under test serves the console as the code now stands.
import { build } from 'vite';

export default async function setup(): Promise<void> {
  // vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: new URL('../web/vite.config.ts', import.meta.url).pathname, logLevel: 'warn' });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}
