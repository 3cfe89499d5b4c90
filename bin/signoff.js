#!/usr/bin/env node
// The published entry point: runs the compiled CLI (`npm run build`, done by `npm ci` through `prepare`).
import('../dist/cli/main.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli/main.js')) {
    console.error('signoff is not built yet: run `npm run build` (npm ci does it for you).');
    process.exit(1);
  }
  throw error;
});
