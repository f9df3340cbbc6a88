#!/usr/bin/env node
// The CLI is TypeScript run through tsx (as every part of this workspace); a published
// package would ship it compiled and import ../dist/main.js here instead.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
