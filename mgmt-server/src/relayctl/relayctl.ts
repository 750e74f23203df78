// relayctl's entry point (bin/relayctl.js imports the compiled form; the single executable
// bundles this file, see mgmt-server/tools/build-sea.sh). Only wiring: the real process's
// streams, environment, name and exit code.
import { isSea } from 'node:sea';
import { processIo } from './cliIo.js';
import { programName } from './invocation.js';
import { runRelayctl } from './main.js';

const sea = isSea();
const invocation = {
  // bin/relayctl names the path it was run by (node sees only the script); a single executable
  // is its own argv0, as typed or as kubectl ran it (execPath would resolve a symlink).
  program: programName(process.env.RELAYCTL_INVOKED_AS ?? (sea ? process.argv0 : process.argv[1])),
  runtime: `Node.js ${process.version}, ${process.platform}/${process.arch}${sea ? ', single executable' : ''}`,
};
// No top-level await: the single executable runs this bundled as CommonJS, which has none.
void runRelayctl(process.argv.slice(2), processIo(), invocation).then((code) => {
  process.exitCode = code;
});
