// PKI of the relay (docs/design.md "Mutual TLS"): shared by the management server (CA, signing,
// verifying agents), the agent (key and CSR), relayctl (CA rotation) and the lab.

// The relay CA Secret's format and its rotation are registration contracts (server and relayctl
// both read and write that Secret), but they parse certificates, so they load with the PKI and
// keep @peculiar/x509 out of the root entry point the agent's hot path imports.
export * from '../registration/caRotation.js';
export * from '../registration/relayCa.js';
export * from './createCsr.js';
export * from './issueCertificate.js';
export * from './keys.js';
export * from './pem.js';
export * from './spiffe.js';
export * from './verifyCertificate.js';
