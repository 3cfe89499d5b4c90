// The console is built into dist/console, which `signoff serve` serves at `/`.
// `npx vite web` runs it on :5173 against a Signoff on :3000 (SIGNOFF_URL) while editing.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const target = process.env.SIGNOFF_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1000,
  },
  server: { proxy: { '/api': target, '/sandbox': target, '/callbacks': target } },
});
