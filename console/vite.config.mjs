// The web console, built by `npm run build` (and so by `npm ci`) into dist/console,
// which the management port serves at /console/. No CDN: everything is in the bundle.
import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { defineConfig } from 'vite';

/** The budget for the whole console, gzipped. */
const BUDGET_BYTES = 300 * 1024;

/** Prints the bundle's gzipped size, and fails the build past the budget. */
const bundleSize = {
  name: 'mlspace-bundle-size',
  generateBundle(_options, bundle) {
    const total = Object.values(bundle).reduce((sum, file) => sum + gzipSync(file.type === 'chunk' ? file.code : file.source).length, 0);
    console.log(`console bundle: ${(total / 1024).toFixed(1)} KiB gzipped (budget ${BUDGET_BYTES / 1024} KiB)`);
    if (total > BUDGET_BYTES) this.error(`The console bundle is ${total} bytes gzipped, over its budget of ${BUDGET_BYTES}.`);
  },
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  plugins: [preact(), bundleSize],
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    // The CSP allows no inline script or style: keep everything in files.
    assetsInlineLimit: 0,
  },
});
