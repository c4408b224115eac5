#!/usr/bin/env node
// Runs Ferry's TypeScript sources through tsx, pinned to the project's tsconfig
// so that decorators compile the same way whatever the current directory is.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// `ferry serve` is the production server: graphql-js then skips its development-only checks
// (~100 ms of CPU per 5,000-VM tree, docs/benchmarks.md). NODE_ENV set by the caller wins.
if (process.argv[2] === 'serve') process.env.NODE_ENV ??= 'production';
register({ tsconfig: `${root}tsconfig.json` });
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
