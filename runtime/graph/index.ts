export * from './graph.js';
export * from './describe.js';
