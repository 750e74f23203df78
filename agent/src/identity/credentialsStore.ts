import { readFile } from 'node:fs/promises';
import { ErrorCode, RelayError } from '@kuberelay/shared';
import { isConflict, isNotFound, type KubeRest, resourcePath } from '@kuberelay/shared/kube';
import { writeFileAtomically } from '../files/writeFileAtomically.js';
import { type CredentialInputs, CredentialsKey, credentialsFromSecretData } from './agentCredentials.js';

/** What the agent writes back: a new certificate and key, a new bundle, a used bootstrap token. */
export interface CredentialsUpdate {
  readonly certPem?: string;
  /** Secret: only ever written to the store, never logged. */
  readonly keyPem?: string;
  readonly caPem?: string;
  readonly removeBootstrapToken?: boolean;
}

/** Where the agent's credentials live, and where renewed ones go. */
export interface CredentialsStore {
  /** For messages: "Secret gloo-mesh/kuberelay-agent-credentials". */
  readonly description: string;
  /** undefined when the store does not exist at all. */
  load(): Promise<CredentialInputs | undefined>;
  save(update: CredentialsUpdate): Promise<void>;
}

interface SecretObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  type?: string;
  data?: Record<string, string>;
}

/** Attempts of a read-modify-write when someone else changes the Secret meanwhile. */
const MAX_CONFLICT_RETRIES = 5;

/**
 * The credentials Secret in the workload cluster. Writes are a read-modify-write `PUT` with the
 * read `resourceVersion`, so a concurrent change (relayctl re-registering) is never overwritten
 * blindly: a conflict re-reads and applies the update again.
 */
export class SecretCredentialsStore implements CredentialsStore {
  readonly #rest: KubeRest;
  readonly #namespace: string;
  readonly #name: string;

  constructor(options: { readonly rest: KubeRest; readonly namespace: string; readonly name: string }) {
    this.#rest = options.rest;
    this.#namespace = options.namespace;
    this.#name = options.name;
  }

  get description(): string {
    return `Secret ${this.#namespace}/${this.#name}`;
  }

  async load(): Promise<CredentialInputs | undefined> {
    const secret = await this.#get();
    return secret === undefined ? undefined : credentialsFromSecretData(secret.data);
  }

  async save(update: CredentialsUpdate): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const secret = await this.#get();
      if (secret === undefined) {
        throw new RelayError({
          code: ErrorCode.Internal,
          message: `cannot store the agent's credentials: ${this.description} was deleted`,
        });
      }
      const data = { ...secret.data };
      const put = (key: string, value: string | undefined) => {
        if (value !== undefined) data[key] = Buffer.from(value, 'utf8').toString('base64');
      };
      put(CredentialsKey.certificate, update.certPem);
      put(CredentialsKey.privateKey, update.keyPem);
      put(CredentialsKey.caBundle, update.caPem);
      if (update.removeBootstrapToken === true) delete data[CredentialsKey.bootstrapToken];
      try {
        await this.#rest.request({
          method: 'PUT',
          path: this.#path(),
          query: { fieldManager: 'kuberelay-agent' },
          body: { ...secret, data },
        });
        return;
      } catch (error) {
        if (isConflict(error) && attempt < MAX_CONFLICT_RETRIES) continue;
        throw new RelayError({
          code: ErrorCode.Internal,
          message: `cannot store the agent's credentials in ${this.description}: ${messageOf(error)}`,
          cause: error,
        });
      }
    }
  }

  async #get(): Promise<SecretObject | undefined> {
    try {
      return await this.#rest.request<SecretObject>({ method: 'GET', path: this.#path() });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw new RelayError({
        code: ErrorCode.InvalidConfig,
        message: `cannot read ${this.description}: ${messageOf(error)}`,
        cause: error,
      });
    }
  }

  #path(): string {
    return resourcePath({
      group: '',
      version: 'v1',
      plural: 'secrets',
      namespace: this.#namespace,
      name: this.#name,
    });
  }
}

export interface CredentialFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly bootstrapTokenFile?: string | undefined;
}

/**
 * Credentials in files (--ca-file, --cert-file, --key-file, --bootstrap-token-file), for running
 * outside a cluster and for tests. Renewed material is written back to the same files
 * (atomically; the key with mode 0600). The bootstrap token file is only read: a used token is
 * useless, and the certificate files existing is what stops a second bootstrap.
 */
export class FileCredentialsStore implements CredentialsStore {
  readonly #files: CredentialFiles;

  constructor(files: CredentialFiles) {
    this.#files = files;
  }

  get description(): string {
    return `files ${this.#files.caFile}, ${this.#files.certFile}, ${this.#files.keyFile}`;
  }

  async load(): Promise<CredentialInputs> {
    const caPem = await readOptional(this.#files.caFile);
    const certPem = await readOptional(this.#files.certFile);
    const keyPem = await readOptional(this.#files.keyFile);
    const bootstrapToken =
      this.#files.bootstrapTokenFile === undefined
        ? undefined
        : await readOptional(this.#files.bootstrapTokenFile);
    return {
      ...(caPem === undefined ? {} : { caPem }),
      ...(certPem === undefined ? {} : { certPem }),
      ...(keyPem === undefined ? {} : { keyPem }),
      ...(bootstrapToken === undefined ? {} : { bootstrapToken }),
    };
  }

  async save(update: CredentialsUpdate): Promise<void> {
    // Key before certificate: a crash in between leaves a pair that does not match, which the
    // next start reports, rather than a certificate whose key is lost.
    if (update.keyPem !== undefined) await writePem(this.#files.keyFile, update.keyPem, 0o600);
    if (update.certPem !== undefined) await writePem(this.#files.certFile, update.certPem, 0o644);
    if (update.caPem !== undefined) await writePem(this.#files.caFile, update.caPem, 0o644);
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    return text === '' ? undefined : text;
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT')
      return undefined;
    throw new RelayError({
      code: ErrorCode.InvalidConfig,
      message: `cannot read ${path}: ${messageOf(error)}`,
      cause: error,
    });
  }
}

/** The PEM files end with a newline, as openssl and kubectl write them. */
async function writePem(path: string, text: string, mode: number): Promise<void> {
  await writeFileAtomically({ path, content: text.endsWith('\n') ? text : `${text}\n`, mode });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
