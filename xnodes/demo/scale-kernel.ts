import type { Tensor } from '../../runtime/xnode/types.js';

export function scaleTensor(t: Tensor, a: number, b: number): Tensor {
  const x = t.data;
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = a * x[i]! + b;
  return { dims: t.dims, data: y };
}
