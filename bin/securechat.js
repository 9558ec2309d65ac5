#!/usr/bin/env node
// The operator's command line. It runs the compiled CLI; `npm run build` makes it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('securechat: the CLI is not built yet; run `npm run build` first.');
  process.exit(1);
}
await import(cli);
