export * from './webhook-events';
export * from './webhook-signature';
export * from './secret-box';
export * from './webhook-views';
export * from './webhook-store';
export * from './webhook-delivery-store';
