export * from './client';
export * from './recipes';
