// Pipelines written in code instead of a launch file: fills in what a launch file would.
import type { LaunchDescription, XNodeEntity } from '../launch/types.js';

export type XNodeInCode = Pick<XNodeEntity, 'name' | 'type'> & Partial<XNodeEntity>;

export function describeXNodes(xnodes: XNodeInCode[], file = '<code>'): LaunchDescription {
  return {
    file,
    args: {},
    processes: [],
    xpus: [],
    xnodes: xnodes.map((x, i) => ({
      namespace: '/',
      inputs: {},
      outputs: {},
      params: {},
      impls: [],
      priority: 0,
      module: x.name,
      process: 'main',
      ros2: [],
      portPos: {},
      pos: { file, line: i + 1, column: 1 },
      ...x,
    })),
  };
}
