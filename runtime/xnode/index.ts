export * from './types.js';
export { defineXNode, checkParam, coerceParam } from './define.js';
export { XNodeRegistry } from './registry.js';
export { decodeState, encodeState, hostState, stateOf } from './state.js';
export type { HostStateSpec, PlainData, StatefulInstance, StateSnapshot, TypedArray, XNodeState } from './state.js';
