#!/usr/bin/env node
// npm's entry for `ramp` and `kubectl-ramp`. Node >= 22.19 runs the TypeScript sources directly.
import "../src/cli/main.ts";
