// Shared test helpers.
export { describeXNodes as describe, type XNodeInCode as XNodeLite } from '../runtime/graph/describe.js';
