export * from './graph.js';
export * from './describe.js';
export { didYouMean, suggestions } from './suggest.js';
