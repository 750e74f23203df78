import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type ClusterState, pkiFile } from './clusterProcesses.js';
import type { Pem } from './pki.js';

// The lab's kubeconfig: one context per cluster, as its admin.

export function readPem(certFile: string, keyFile: string): Pem {
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

interface KubeconfigEntry {
  readonly name: string;
  readonly server: string;
  readonly ca: string;
  readonly user: string;
  readonly client: Pem;
}

export function kubeconfigDocument(entries: readonly KubeconfigEntry[]): Record<string, unknown> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': entries[0]?.name,
    clusters: entries.map((e) => ({
      name: e.name,
      cluster: { server: e.server, 'certificate-authority-data': b64(e.ca) },
    })),
    users: entries.map((e) => ({
      name: `${e.name}-${e.user}`,
      user: { 'client-certificate-data': b64(e.client.cert), 'client-key-data': b64(e.client.key) },
    })),
    contexts: entries.map((e) => ({
      name: e.name,
      context: { cluster: e.name, user: `${e.name}-${e.user}` },
    })),
  };
}

export function writeKubeconfig(dir: string, clusters: readonly ClusterState[]): void {
  const entries = clusters.map((c) => ({
    name: c.name,
    server: `https://127.0.0.1:${c.apiPort}`,
    ca: readFileSync(pkiFile(dir, c.name, 'ca.crt'), 'utf8'),
    user: 'admin',
    client: readPem(pkiFile(dir, c.name, 'admin.crt'), pkiFile(dir, c.name, 'admin.key')),
  }));
  writeFileSync(join(dir, 'kubeconfig'), stringify(kubeconfigDocument(entries)), { mode: 0o600 });
}
