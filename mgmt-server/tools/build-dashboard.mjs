// Bundles the dashboard's front end (mgmt-server/src/dashboard/ui) into
// mgmt-server/dist/dashboard-ui/app.js and app.css, which the management server serves itself:
// no CDN and no download at run time. Run by `pnpm build` after tsc (which type-checks the UI);
// esbuild only strips types and bundles. Small on purpose: a few kB, no framework.
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'dashboard-ui');
await mkdir(outdir, { recursive: true });
const result = await build({
  entryPoints: { app: join(root, 'src', 'dashboard', 'ui', 'main.ts') },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  // What the Chromium, Firefox and Safari of the last two years run.
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  outdir,
  logLevel: 'warning',
  metafile: true,
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
process.stderr.write(`dashboard: bundled into ${outdir} (${Math.round(bytes / 1024)} kB)\n`);
