// What a rollout run measured: target calls, wall time, acceptance per drafter over progress.
export const PHASES = 3;

export interface DrafterStats {
  /** Per phase of the rollout (thirds of its steps): draft tokens scored, and accepted. */
  proposed: number[];
  accepted: number[];
  /** Drafts found contradicted by committed tokens, discarded. */
  stale: number;
  /** Rounds in which this drafter's draft was the one verified. */
  chosen: number;
}

export interface RunStats {
  mode: string;
  rows: number;
  tokens: number;
  calls: number;
  /** Rows summed over calls (extra candidate rows included). */
  callRows: number;
  ms: number;
  /** Target calls each rollout took part in until it finished. */
  rowCalls: Int32Array;
  /** Rounds in which a rollout ran without a draft because speculation did not pay for it. */
  offRounds: number;
  /** Call rows that carried a draft (second candidates and probes included): the drafting done. */
  draftRows: number;
  /** Plain rounds in which a few rollouts carried probe drafts (probe.ts). */
  probeRounds: number;
  drafters: Record<string, DrafterStats>;
}

export function newStats(mode: string, rows: number, names: string[]): RunStats {
  const drafters: Record<string, DrafterStats> = {};
  for (const n of names) drafters[n] = { proposed: new Array(PHASES).fill(0), accepted: new Array(PHASES).fill(0), stale: 0, chosen: 0 };
  return { mode, rows, tokens: 0, calls: 0, callRows: 0, ms: 0, rowCalls: new Int32Array(rows), offRounds: 0, draftRows: 0, probeRounds: 0, drafters };
}

export const tokensPerSecond = (s: RunStats) => (s.tokens * 1000) / Math.max(s.ms, 1e-9);

export function acceptance(d: DrafterStats, phase?: number): number {
  const p = phase === undefined ? d.proposed.reduce((a, b) => a + b, 0) : d.proposed[phase]!;
  const a = phase === undefined ? d.accepted.reduce((x, y) => x + y, 0) : d.accepted[phase]!;
  return p > 0 ? a / p : 0;
}
