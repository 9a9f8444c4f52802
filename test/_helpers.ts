// Builds launch descriptions in code, for tests that are not about the launch frontends.
import type { LaunchDescription, XNodeEntity } from '../runtime/launch/types.js';

export type XNodeLite = Pick<XNodeEntity, 'name' | 'type'> & Partial<XNodeEntity>;

export function describe(xnodes: XNodeLite[], file = 'test.launch.yaml'): LaunchDescription {
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
