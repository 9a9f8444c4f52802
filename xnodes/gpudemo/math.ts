// Plain float32 JavaScript versions of the device kernels the demo stages use: the `cpu`
// implementations, and the reference the device implementations must match.

/** C = alpha * A(MxK) * B(KxN), row-major, summed in the device kernel's order. */
export function gemmBeta0(M: number, N: number, K: number, alpha: number, A: Float32Array, B: Float32Array, C: Float32Array): void {
  const f = Math.fround;
  const acc = new Float32Array(N);
  const a32 = f(alpha);
  for (let i = 0; i < M; i++) {
    acc.fill(0);
    for (let k = 0; k < K; k++) {
      const av = A[i * K + k]!;
      const row = k * N;
      for (let j = 0; j < N; j++) acc[j] = f(acc[j]! + f(av * B[row + j]!));
    }
    for (let j = 0; j < N; j++) C[i * N + j] = f(a32 * acc[j]!);
  }
}

/** Deterministic weights in [-0.5, 0.5) (same on every implementation). */
export function weights(n: number, seed: number): Float32Array {
  const w = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    w[i] = s / 4294967296 - 0.5;
  }
  return w;
}

/** The K x N activation matrix a frame feeds the GEMM: the input tensor, tiled and scaled. */
export function activations(input: Float32Array, K: number, N: number, out: Float32Array): Float32Array {
  const L = input.length;
  for (let i = 0; i < K * N; i++) out[i] = Math.fround((L ? input[i % L]! : 0) * 0.01);
  return out;
}
