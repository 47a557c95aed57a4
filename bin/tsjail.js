#!/usr/bin/env node
// tsjail launcher. `npm run build` bundles the CLI into one file (dist/tsjail.mjs):
// one module to load instead of dozens, which is most of tsjail's start-up.
import { main } from '../dist/tsjail.mjs';

process.exitCode = await main(process.argv.slice(2));
