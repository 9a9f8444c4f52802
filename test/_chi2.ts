// Chi-square checks of sampled rollouts: token counts at a position, the two-sample statistic
// between two runs, and the upper 0.1% point it is held to.
import { WINDOW } from '../xnodes/planning/motion.js';

/** Upper 0.1% point of chi-square (Wilson-Hilferty). */
export const critical = (df: number) => df * (1 - 2 / (9 * df) + 3.09 * Math.sqrt(2 / (9 * df))) ** 3;

/** How often each token was drawn at window position `pos` over `rows` rollouts. */
export function tokenCounts(tokens: Int32Array, rows: number, pos: number): Map<number, number> {
  const m = new Map<number, number>();
  for (let r = 0; r < rows; r++) m.set(tokens[r * WINDOW + pos]!, (m.get(tokens[r * WINDOW + pos]!) ?? 0) + 1);
  return m;
}

/** Two-sample chi-square of equal-size samples over the tokens drawn at least 10 times in both together. */
export function twoSample(a: Map<number, number>, b: Map<number, number>): { x: number; df: number } {
  let x = 0;
  let df = -1;
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const o1 = a.get(k) ?? 0;
    const o2 = b.get(k) ?? 0;
    if (o1 + o2 < 10) continue;
    x += (o1 - o2) ** 2 / (o1 + o2);
    df++;
  }
  return { x, df };
}
