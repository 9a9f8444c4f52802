// Named run counters (drops, preemptions, fallbacks, ...) any part can bump; the final
// report prints them. Cheap enough for per-frame use: one Map lookup.
const values = new Map<string, number>();

export const counters = {
  add(name: string, n = 1): void {
    values.set(name, (values.get(name) ?? 0) + n);
  },
  get(name: string): number {
    return values.get(name) ?? 0;
  },
  snapshot(): Record<string, number> {
    return Object.fromEntries([...values.entries()].sort(([a], [b]) => a.localeCompare(b)));
  },
  reset(): void {
    values.clear();
  },
};
