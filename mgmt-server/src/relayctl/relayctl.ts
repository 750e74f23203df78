// relayctl's entry point (bin/relayctl.js imports the compiled form). Only wiring: the real
// process's streams and environment, and its exit code.
import { processIo } from './cliIo.js';
import { runRelayctl } from './main.js';

process.exitCode = await runRelayctl(process.argv.slice(2), processIo());
