export * from './compare.js';
export * from './generate.js';
export * from './kernel.js';
export * from './model.js';
export * from './random.js';
export * from './settings.js';
export * from './shrink.js';
export * from './verify.js';
