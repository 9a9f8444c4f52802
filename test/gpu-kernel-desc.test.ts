// Kernel descriptors as JS sees them carry the scalars that gate a buffer's accesses, as
// kernel.h declares them (the validator's instance-level rules read the same fields).
import test from 'ava';
import { Device } from '../runtime/gpu/index.js';

test('descriptors export readIfNonzero, writeIfNonzero, activeIfNonzero and selectOf', (t) => {
  const d = new Device();
  const param = (k: string, p: string) => d.kernel(k).params.find((q) => q.name === p)!;
  t.is(param('gemm', 'C').readIfNonzero, 'beta');
  t.is(param('batchnorm', 'rmean').writeIfNonzero, 'training');
  t.is(param('act_inplace', 'x').activeIfNonzero, 'act');
  t.is(param('relu_backward', 'dx').selectOf, 'dy');
  // absent where the kernel does not declare them
  t.is(param('gemm', 'C').writeIfNonzero, undefined);
  t.is(param('gemm', 'A').selectOf, undefined);
  d.close();
});
