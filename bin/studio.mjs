#!/usr/bin/env node
// Launcher for the `studio` CLI: runs the TypeScript source through tsx (a runtime dependency),
// so the CLI needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../electron/host/cli.ts');
