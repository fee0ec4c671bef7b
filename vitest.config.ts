import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url))

// Tests run against the packages' TypeScript sources (no build needed to iterate); the examples and
// end-to-end tests run real servers that consume the built `dist/` like an outside app would.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@next-atproto\/core$/, replacement: src('./packages/core/src/index.ts') },
      { find: /^@next-atproto\/core\/node$/, replacement: src('./packages/core/src/node/index.ts') },
      { find: /^@next-atproto\/adapters$/, replacement: src('./packages/adapters/src/index.ts') },
      {
        find: /^@next-atproto\/adapters\/testing$/,
        replacement: src('./packages/adapters/src/testing/conformance.ts'),
      },
      { find: /^next-atproto$/, replacement: src('./packages/next-atproto/src/index.ts') },
      { find: /^next-atproto\/node$/, replacement: src('./packages/next-atproto/src/node.ts') },
      { find: /^next-atproto\/trpc$/, replacement: src('./packages/next-atproto/src/trpc.ts') },
      { find: /^next-atproto\/proxy$/, replacement: src('./packages/next-atproto/src/proxy.ts') },
    ],
  },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'examples/*/test/**/*.test.ts',
      'scripts/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**', '**/.next/**'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // CI lists every test by suite, so its log shows which database suites ran.
    reporters: process.env.CI ? ['verbose'] : ['default'],
  },
})
