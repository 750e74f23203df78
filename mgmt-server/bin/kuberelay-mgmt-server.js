#!/usr/bin/env node
// Checked before anything is loaded: on an older Node the program would fail later with an
// obscure syntax or API error instead of saying what it needs.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `kuberelay-mgmt-server: Node.js 24 or newer is needed; this is Node.js ${process.version}\n`,
  );
  process.exit(1);
}
await import('../dist/main.js');
