export * from './address-ranges';
export * from './outbound-errors';
export * from './outbound-http-client';
export * from './outbound-policy';
export * from './pinned-lookup';
