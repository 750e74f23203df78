#!/usr/bin/env node
import '../dist/relayctl/relayctl.js';
