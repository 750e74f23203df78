import { isIP } from 'node:net';
import type { Clock, Logger } from '@kuberelay/shared';
import {
  type CertificateAndKey,
  issueCertificate,
  parseCertificate,
  type RelayCa,
} from '@kuberelay/shared/pki';
import type { CaStore } from './caStore.js';
import { RelayServerCredentials } from './relayServerCredentials.js';

export interface ServerCertificateOptions {
  readonly caStore: CaStore;
  /** DNS names and IP addresses (`--server-san`). */
  readonly sans: readonly string[];
  readonly validityMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/** Re-issue at this fraction of the lifetime, so a missed attempt still leaves time to retry. */
const REISSUE_FRACTION = 2 / 3;
const RETRY_MS = 30_000;

/**
 * The server's own certificate: issued in memory from the signing CA at start, re-issued at 2/3
 * of its life and whenever the signing CA changes, and swapped into the gRPC credentials without
 * dropping streams. A change of the bundle alone (rotate-ca begin/finish) only swaps the trusted
 * CAs. The private key never leaves this process.
 */
export class ServerCertificate {
  readonly #o: ServerCertificateOptions;
  #current: CertificateAndKey;
  #credentials: RelayServerCredentials | undefined;
  #wake = new AbortController();

  private constructor(options: ServerCertificateOptions, first: CertificateAndKey) {
    this.#o = options;
    this.#current = first;
  }

  /** Issues the first certificate; `credentials` are usable at once. Starts the re-issue loop. */
  static async start(options: ServerCertificateOptions): Promise<ServerCertificate> {
    const first = await issueServerCertificate(options, options.caStore.current());
    const self = new ServerCertificate(options, first);
    self.#credentials = new RelayServerCredentials(self.#material(options.caStore.current()));
    options.caStore.onChange((ca, previous) => {
      if (ca.signingFingerprint !== previous.signingFingerprint) {
        self.#wake.abort();
      } else {
        self.#credentials?.update(self.#material(ca));
      }
    });
    void self.#run();
    return self;
  }

  get credentials(): RelayServerCredentials {
    if (this.#credentials === undefined) throw new Error('ServerCertificate used before start()');
    return this.#credentials;
  }

  /** The PEM certificate currently presented (for tests and logs; no key). */
  get certPem(): string {
    return this.#current.certPem;
  }

  #material(ca: RelayCa) {
    return { certPem: this.#current.certPem, keyPem: this.#current.keyPem, caBundlePem: ca.bundlePem };
  }

  async #run(): Promise<void> {
    const { clock, signal, logger } = this.#o;
    let delayMs = this.#reissueDelay();
    while (!signal.aborted) {
      const wake = this.#wake;
      try {
        await clock.sleep(Math.max(0, delayMs), AbortSignal.any([signal, wake.signal]));
      } catch {
        // Woken by a CA change, or stopping.
      }
      if (signal.aborted) return;
      if (wake.signal.aborted) this.#wake = new AbortController();
      try {
        const ca = this.#o.caStore.current();
        this.#current = await issueServerCertificate(this.#o, ca);
        this.#credentials?.update(this.#material(ca));
        logger.info(
          { notAfter: parseCertificate(this.#current.certPem).notAfter.toISOString() },
          'server certificate re-issued',
        );
        delayMs = this.#reissueDelay();
      } catch (error) {
        logger.error({ err: error }, 're-issuing the server certificate failed; retrying');
        delayMs = RETRY_MS;
      }
    }
  }

  #reissueDelay(): number {
    const { notBefore, notAfter } = parseCertificate(this.#current.certPem);
    const due = notBefore.getTime() + (notAfter.getTime() - notBefore.getTime()) * REISSUE_FRACTION;
    return due - this.#o.clock.now();
  }
}

function issueServerCertificate(options: ServerCertificateOptions, ca: RelayCa): Promise<CertificateAndKey> {
  return issueCertificate({
    ca: ca.signing,
    commonName: 'kuberelay-mgmt-server',
    usage: 'server',
    dnsNames: options.sans.filter((san) => isIP(san) === 0),
    ipAddresses: options.sans.filter((san) => isIP(san) !== 0),
    validityMs: options.validityMs,
    now: options.clock.now(),
  });
}
