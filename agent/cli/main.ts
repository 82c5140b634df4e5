#!/usr/bin/env node
// The `logseal` executable. In a built package it runs the CLI's one-file bundle (logseal.cjs) from its code cache;
// without the bundle (the stages compiled by tsc alone, or run from source) it imports the CLI's modules directly.
import { fileURLToPath } from 'node:url';
import { runBundle } from './code-cache.js';

if (!runBundle(fileURLToPath(new URL('./logseal.cjs', import.meta.url)))) await import('./program.js');
