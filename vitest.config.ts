import { defineConfig } from 'vitest/config';

// Every test file runs on PGlite; with TEST_DATABASE_URL set, every file runs again on PostgreSQL.
const engines = process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

export default defineConfig({
  test: {
    projects: engines.map((engine) => ({
      extends: true,
      test: {
        name: engine,
        include: ['src/**/*.test.{ts,tsx}', 'test/**/*.test.{ts,tsx}'],
        env: { CANDOR_TEST_ENGINE: engine },
        globalSetup: ['test/global-setup.ts'],
        // Generous: many tests start real server processes, and two engines share two cores.
        testTimeout: 60_000,
        hookTimeout: 60_000,
        pool: 'forks',
      },
    })),
  },
});
