// PKI of the relay (docs/design.md "Mutual TLS"): shared by the management server (CA, signing,
// verifying agents), the agent (key and CSR), relayctl (CA rotation) and the lab.
export * from './createCsr.js';
export * from './issueCertificate.js';
export * from './keys.js';
export * from './pem.js';
export * from './spiffe.js';
export * from './verifyCertificate.js';
