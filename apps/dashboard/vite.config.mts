// Builds the dashboard into dist/ (hashed assets under dist/assets/, served by the controller at /).
// `npx vite` in this folder runs a dev server that proxies the API to PAAS_API_URL (default the
// local platform at http://127.0.0.1:4000), so the dashboard is same-origin there too.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const lib = (path: string) => fileURLToPath(new URL(`../../libs/${path}`, import.meta.url));
const api = process.env.PAAS_API_URL ?? 'http://127.0.0.1:4000';

export default defineConfig({
  plugins: [react()],
  // The shared libraries are bundled from their TypeScript sources (ES modules, tree-shaken),
  // not from their CommonJS builds.
  resolve: {
    alias: {
      '@paas/contracts': lib('contracts/src/index.ts'),
      '@paas/api-client': lib('api-client/src/index.ts'),
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
    rolldownOptions: {
      // The contracts only declare schemas and pure functions: what the dashboard does not use
      // (the manifest parser and its YAML library, job payloads, ...) is left out of the bundle.
      treeshake: { moduleSideEffects: (id: string) => !id.includes('/libs/contracts/src/') },
    },
  },
  server: { proxy: { '/v1': { target: api, changeOrigin: true } } },
});
