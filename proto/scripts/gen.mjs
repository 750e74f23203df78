// Generates TypeScript from the .proto files with ts-proto, through buf (which ships its own
// compiler as an npm platform package, so no protoc download is needed). The output in src/gen
// is never edited and never committed.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(pkg, 'node_modules', '.bin');
const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
rmSync(join(pkg, 'src', 'gen'), { recursive: true, force: true });
for (const args of [['lint'], ['generate']]) {
  try {
    execFileSync(join(bin, 'buf'), args, { cwd: pkg, env, stdio: 'inherit' });
  } catch {
    console.error(`proto: \`buf ${args.join(' ')}\` failed (see above)`);
    process.exit(1);
  }
}
