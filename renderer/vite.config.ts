import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  plugins: [svelte(), svelteTesting()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // The CSP allows scripts from 'self' only: no inline module preload polyfill.
    modulePreload: { polyfill: false },
  },
  test: {
    root: here,
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
  },
});
