export * from './compare.js';
export * from './kernel.js';
export * from './model.js';
export * from './settings.js';
export * from './verify.js';
