import type { AgentAuth, TlsMaterial } from './agentCredentials.js';
import { type CaFacts, type CertificateFacts, parseBundle } from './certificateFacts.js';

// What AgentIdentity holds at any moment, and how it starts from the resolved credentials: kept
// apart from the class so the two states an agent can be in read in one place.

export type IdentityState =
  | {
      readonly kind: 'certificate';
      readonly material: TlsMaterial;
      readonly cert: CertificateFacts;
      readonly bundle: readonly CaFacts[];
    }
  | { readonly kind: 'bootstrap'; readonly caPem: string; readonly bootstrapToken: string };

export function stateOf(auth: AgentAuth): IdentityState {
  switch (auth.kind) {
    case 'certificate': {
      const bundle = parseBundle(auth.material.caPem, 'ca.crt');
      return {
        kind: 'certificate',
        material: auth.material,
        cert: auth.cert,
        bundle: bundle.ok ? bundle.value : [],
      };
    }
    case 'bootstrap':
      return { kind: 'bootstrap', caPem: auth.caPem, bootstrapToken: auth.bootstrapToken };
  }
}
