// Motion tokens of the trajectory-rollout model, shared by its generator (models/rollout.gen.mjs,
// fitting at build time) and by the rollout stage (tokenising track histories at run time).
//
// An agent's history is H + 1 positions one step (DT) apart. Its reference velocity is the mean
// step over the history; a token is the step's residual from it (x, y), quantised on a grid:
// token = ix * NY + iy. Rolling out token k moves the agent by ref + centre(k). Constant
// velocity at the reference velocity is the all-centre sequence.
export const DT = 0.1;
export const H = 10;
export const T = 30;
/** The target's fixed window: H history tokens, then T generated ones. */
export const WINDOW = H + T;
/** The drafter model's window: the latest tokens it sees. */
export const DRAFT_WINDOW = 8;
export const NX = 15;
export const NY = 21;
export const QX = 0.02;
export const QY = 0.005;
export const VOCAB = NX * NY;
const CX = (NX - 1) / 2;
const CY = (NY - 1) / 2;
/** Context per agent: class one-hot (car, pedestrian, cyclist), then speed / 10 m/s. */
export const CONTEXT = 4;
/** The token whose residual is zero (constant velocity). */
export const CENTRE = CX * NY + CY;

/** Residual of token k in grid units, x then y. */
export function unitsOf(k: number): [number, number] {
  return [Math.floor(k / NY) - CX, (k % NY) - CY];
}

export function tokenOf(rx: number, ry: number): number {
  const ix = Math.min(NX - 1, Math.max(0, Math.round(rx / QX) + CX));
  const iy = Math.min(NY - 1, Math.max(0, Math.round(ry / QY) + CY));
  return ix * NY + iy;
}

/**
 * Tokenises one history: xs, ys hold H + 1 positions (oldest first). Writes H tokens into
 * `tokens` at `offset` and the context into `context` at `coff`; returns the reference step.
 */
export function tokenise(xs: ArrayLike<number>, ys: ArrayLike<number>, cls: number, tokens: Int32Array, offset: number, context: Float32Array | Float64Array, coff: number): [number, number] {
  const rx = (xs[H]! - xs[0]!) / H;
  const ry = (ys[H]! - ys[0]!) / H;
  for (let k = 1; k <= H; k++) tokens[offset + k - 1] = tokenOf(xs[k]! - xs[k - 1]! - rx, ys[k]! - ys[k - 1]! - ry);
  for (let c = 0; c < 3; c++) context[coff + c] = c === cls ? 1 : 0;
  context[coff + 3] = Math.hypot(rx, ry) / DT / 10;
  return [rx, ry];
}

/** Positions of a rollout: from (x0, y0) by ref + centre(token) per step, into out[2 * s]. */
export function positions(x0: number, y0: number, ref: [number, number], tokens: ArrayLike<number>, offset: number, steps: number, out: Float64Array): Float64Array {
  let x = x0;
  let y = y0;
  for (let s = 0; s < steps; s++) {
    const k = tokens[offset + s]!;
    x += ref[0] + (Math.floor(k / NY) - CX) * QX;
    y += ref[1] + ((k % NY) - CY) * QY;
    out[2 * s] = x;
    out[2 * s + 1] = y;
  }
  return out;
}
