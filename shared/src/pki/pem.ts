const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificate blocks of a PEM bundle, each normalised to end with a newline. */
export function splitPemBundle(bundlePem: string): string[] {
  return [...bundlePem.matchAll(CERTIFICATE_BLOCK)].map((m) => `${m[0]}\n`);
}

/** Joins certificates into one bundle, dropping duplicates (same PEM text) and keeping order. */
export function joinPemBundle(certificates: readonly string[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const pem of certificates.flatMap(splitPemBundle)) {
    const key = pem.replace(/\s+/g, '');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(pem);
  }
  return out.join('');
}
