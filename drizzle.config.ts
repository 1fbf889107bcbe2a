import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes SQL migrations from these table files (never `push`).
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/platform/**/tables.ts', './src/modules/**/tables.ts'],
  out: './migrations',
});
