import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['apps/*', 'libs/*', 'services/*', 'tools/*', 'bench'],
  },
});
