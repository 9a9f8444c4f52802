// Minimum-cost assignment (Hungarian algorithm with potentials, O(n^2 m)) on a dense row-major
// cost matrix. Pairs whose cost is >= `forbidden` are never returned (gated out).

/** Returns, per row, the assigned column or -1. */
export function assign(cost: Float64Array, rows: number, cols: number, forbidden: number): Int32Array {
  const result = new Int32Array(rows).fill(-1);
  if (rows === 0 || cols === 0) return result;
  const transpose = rows > cols;
  const n = transpose ? cols : rows; // n <= m
  const m = transpose ? rows : cols;
  const at = (i: number, j: number) => (transpose ? cost[j * cols + i]! : cost[i * cols + j]!);
  // 1-based arrays as in the classic formulation; big finite cost keeps the algebra finite.
  const big = forbidden;
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const c = Math.min(at(i0 - 1, j - 1), big);
        const cur = c - u[i0]! - v[j]!;
        if (cur < minv[j]!) (minv[j] = cur), (way[j] = j0);
        if (minv[j]! < delta) (delta = minv[j]!), (j1 = j);
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) (u[p[j]!] += delta), (v[j] -= delta);
        else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  for (let j = 1; j <= m; j++) {
    const i = p[j]!;
    if (i === 0) continue;
    const [r, c] = transpose ? [j - 1, i - 1] : [i - 1, j - 1];
    if (cost[r * cols + c]! < forbidden) result[r] = c;
  }
  return result;
}
