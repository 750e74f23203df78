#!/usr/bin/env node
import '../dist/cli/relayctl.js';
