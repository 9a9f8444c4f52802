// Malformed input handling shared by every perception stage: the message is dropped, counted
// under `perception.dropped_malformed`, and the first few reasons are logged; never a throw.
import type { ImplContext } from '../../runtime/xnode/types.js';

export const DROPPED = 'perception.dropped_malformed';
const LOGGED_PER_STAGE = 3;

export type Drop = (where: string, reason: string) => null;

/** Returns `drop(where, reason)`: counts, logs the first few, and returns null (emit nothing). */
export function dropper(ctx: Pick<ImplContext, 'count' | 'log'>): Drop {
  let logged = 0;
  return (where, reason) => {
    ctx.count(DROPPED);
    if (logged < LOGGED_PER_STAGE) {
      logged++;
      ctx.log(`dropped malformed input ${where}: ${reason}${logged === LOGGED_PER_STAGE ? ' (further drops only counted)' : ''}`);
    }
    return null;
  };
}

export const isHeader = (h: unknown): boolean =>
  !!h && typeof h === 'object' && typeof (h as { stamp?: { sec?: unknown } }).stamp?.sec === 'number';
