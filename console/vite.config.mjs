// The web console, built by `npm run build` (and so by `npm ci`) into dist/console,
// which the management port serves at /console/. No CDN: everything is in the bundle.
import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  plugins: [preact()],
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    // The CSP allows no inline script or style: keep everything in files.
    assetsInlineLimit: 0,
  },
});
