import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

// The system Chromium (Debian's `chromium`, installed by ./dev's ensure_chromium), driven by
// playwright-core, which downloads no browser. KUBERELAY_CHROMIUM names another binary.

const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/**
 * The flags this closed network needs: without the background-networking ones Chromium keeps
 * dialling Google services, whose refused connections slow every page; QUIC and the GPU are
 * of no use headless.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * The Chromium to use, or why there is none. Named explicitly (KUBERELAY_CHROMIUM, which
 * ./dev test sets once it installed Chromium) it must exist: CI then fails instead of skipping.
 */
export function findChromium(): { path: string } | { missing: string } {
  const named = process.env.KUBERELAY_CHROMIUM;
  const path = named || DEFAULT_CHROMIUM;
  try {
    accessSync(path, constants.X_OK);
    return { path };
  } catch {
    if (named) throw new Error(`KUBERELAY_CHROMIUM=${named} is not an executable file`);
    return {
      missing: `no Chromium at ${DEFAULT_CHROMIUM}: the browser tests are skipped (./dev test installs Debian's chromium with apt-get; or set KUBERELAY_CHROMIUM)`,
    };
  }
}

export interface Browser {
  readonly context: BrowserContext;
  stop(): Promise<void>;
}

/** A headless Chromium with a fresh profile of its own, removed on stop. */
export async function launchChromium(executablePath: string): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'kuberelay-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1280, height: 800 },
  });
  return {
    context,
    stop: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
