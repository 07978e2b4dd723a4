import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'docs/**/*.test.ts'],
    // Runs against the packed tarball in a fresh folder: npm run test:packaged.
    exclude: ['test/packaged/**', '**/node_modules/**'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
