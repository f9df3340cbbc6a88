export * from './acme-issuer.ts';
export * from './certificate-store.ts';
export * from './keys.ts';
export * from './sealing.ts';
