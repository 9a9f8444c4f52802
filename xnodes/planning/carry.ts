// Drafts carried over from an earlier frame. A track moves on one step (DT) per frame, so a
// rollout made at frame g is, from its step s + 1 on, a draft of the rollout of the same agent
// at frame g + s. Tokens are residuals from the history's reference step, and they carry over
// as they are (the residual pattern carries over better than the displacement re-quantised
// against the new reference: measured on tracked histories of the held-out scenes, 0.183 vs
// 0.176 of tokens matching for the previous plan, 0.135 vs 0.112 for the draft model). Two
// such drafters: the draft stage's (the smaller model on another XPU, drafting frame g + 1
// while the rollout stage verifies frame g), and the rollout stage's own previous plan.
// Either was made before this frame's draws, so verification stays exact (greedy: any draft;
// sampled: the draft stage's tokens with the distributions they were drawn from, the previous
// plan's as one-hot).
import type { Predrafts } from '../../runtime/speculate/predraft.js';
import type { GivenDrafter } from '../../runtime/speculate/drafters.js';
import type { RolloutJob } from '../../runtime/speculate/types.js';
import { stampKey } from '../perception-common/messages.js';
import type { RolloutDrafts } from './draft-stage.js';
import { DT, H, T, WINDOW } from './motion.js';

/** Frames between two stamps (ms), as the tracks' histories step. */
export const framesBetween = (fromMs: number, toMs: number) => Math.round((toMs - fromMs) / (DT * 1000));

/** Drafts older than this many frames are stale: discarded. */
export const MAX_SHIFT = 1;

/** Tokens of a carried draft: every step but the last (always the target's). */
export const CARRIED = T - 1;

/** What became of a frame's draft-stage drafts: of this frame or the previous one, older (discarded), none. */
export type Carry = 'fresh' | 'stale' | 'missing';

/**
 * The draft stage's drafts for one job, shifted to this frame without a copy (a view that
 * starts `shift` tokens in: row r's token at a position is the draft's `shift` steps later).
 * `map[row]`: the draft row continuing job row `row`, -1 where none does (the verifier's
 * inline drafters serve it alone).
 */
export class StageDrafts {
  readonly map: Int32Array;
  #view: Predrafts = { ahead: 0, tokens: new Int32Array(0) };

  constructor(capacity: number) {
    this.map = new Int32Array(capacity);
  }

  /**
   * Fills `map` for `job` (rowsPer rollouts per agent) from the draft stage's message `d`, made
   * from this frame or an earlier one; sampled: the job is the sampled one (k - 1 rollouts per
   * agent in the message). Returns the message's fate and, when fresh, the drafts to load.
   */
  load(d: RolloutDrafts | undefined, ms: number, ids: string[], job: RolloutJob, rowsPer: number, sampled: boolean): { fate: Carry; drafts?: Predrafts } {
    const map = this.map.subarray(0, job.rows).fill(-1);
    if (!d) return { fate: 'missing' };
    const shift = framesBetween(stampKey(d.header.stamp) / 1e6, ms);
    const src = d.drafts;
    // Message rows of agent i: i * k (greedy), i * k + 1 .. (sampled).
    const first = sampled ? 1 : 0;
    const count = sampled ? d.k - 1 : 1;
    if (shift < 0 || shift > MAX_SHIFT) return { fate: 'stale' };
    if (count <= 0 || d.ids.length === 0 || src.ahead < CARRIED + shift || (sampled && !src.q)) return { fate: 'missing' };
    const at = new Map<string, number>();
    for (let i = 0; i < d.ids.length; i++) at.set(d.ids[i]!, i);
    for (let a = 0; a < ids.length; a++) {
      const i = at.get(ids[a]!);
      if (i !== undefined) for (let j = 0; j < Math.min(rowsPer, count); j++) map[a * rowsPer + j] = i * d.k + first + j;
    }
    const v = this.#view;
    v.ahead = src.ahead;
    v.tokens = src.tokens.subarray(shift);
    if (sampled && src.q) v.q = { width: src.q.width, idx: src.q.idx.subarray(shift * src.q.width), val: src.q.val.subarray(shift * src.q.width) };
    else delete v.q;
    return { fate: 'fresh', drafts: v };
  }
}

/** Per agent and rollout slot (0 greedy, 1.. sampled): the last committed rollout and its frame. */
interface Planned {
  tokens: Int32Array;
  ms: Float64Array;
}

/** The rollout stage's own previous plan: each agent's committed rollouts of the last frame. */
export class PreviousPlan {
  readonly #agents = new Map<string, Planned>();

  constructor(private readonly k: number) {}

  /** Remembers the rollouts a job committed (rows of agent a: a * rowsPer ..). */
  remember(ms: number, ids: string[], job: RolloutJob, rowsPer: number, sampled: boolean): void {
    for (let a = 0; a < ids.length; a++) {
      let p = this.#agents.get(ids[a]!);
      if (!p) this.#agents.set(ids[a]!, (p = { tokens: new Int32Array(this.k * T), ms: new Float64Array(this.k).fill(-Infinity) }));
      for (let j = 0; j < rowsPer; j++) {
        const slot = sampled ? 1 + j : 0;
        if (slot >= this.k) break;
        const row = a * rowsPer + j;
        p.tokens.set(job.tokens.subarray(row * WINDOW + H, row * WINDOW + H + T), slot * T);
        p.ms[slot] = ms;
      }
    }
  }

  /** Loads into `into` the previous frame's rollouts of this job's agents, one step on; returns the rows that got one. */
  load(ms: number, ids: string[], rowsPer: number, sampled: boolean, into: GivenDrafter): number {
    into.has.fill(0, 0, ids.length * rowsPer);
    let n = 0;
    for (let a = 0; a < ids.length; a++) {
      const p = this.#agents.get(ids[a]!);
      if (!p) continue;
      for (let j = 0; j < rowsPer; j++) {
        const slot = sampled ? 1 + j : 0;
        if (slot >= this.k) break;
        const shift = framesBetween(p.ms[slot]!, ms);
        if (shift < 1 || shift > MAX_SHIFT) continue;
        const row = a * rowsPer + j;
        into.tokens.set(p.tokens.subarray(slot * T + shift, slot * T + shift + Math.min(into.ahead, T - shift)), row * into.ahead);
        into.has[row] = 1;
        n++;
      }
    }
    return n;
  }

  /** Forgets agents without a rollout for a second. */
  prune(ms: number): void {
    for (const [id, p] of this.#agents) if (ms - p.ms[0]! > 1000) this.#agents.delete(id);
  }
}
