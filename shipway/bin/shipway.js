#!/usr/bin/env node
// The installed `shipway` command. The CLI itself is compiled TypeScript (npm ci builds it).
import '../dist/cli/main.js';
