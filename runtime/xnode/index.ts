export * from './types.js';
export { defineXNode, checkParam, coerceParam } from './define.js';
export { XNodeRegistry } from './registry.js';
