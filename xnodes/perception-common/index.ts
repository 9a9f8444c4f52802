// Message helpers shared by the perception packages (no XNODEs of its own).
import type { XNodeDef } from '../../runtime/xnode/types.js';
export * from './messages.js';
export * from './rig.js';
export * from './rng.js';
export * from './boxes.js';
export * from './pointcloud.js';
export * from './check.js';
export * from './ort.js';

export const xnodes: XNodeDef[] = [];
