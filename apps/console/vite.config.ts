import { defineConfig } from 'vite';

// The console is static files the gateway serves under its own strict Content-Security-Policy:
// no inline script or style, everything from 'self'.
export default defineConfig({
  resolve: { conditions: ['@heroagent/source'] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
