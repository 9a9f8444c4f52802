import type { XNodeDef } from './types.js';

/** The XNODE types a graph can use, by type name. */
export class XNodeRegistry {
  private readonly defs = new Map<string, XNodeDef>();

  register(...defs: XNodeDef[]): this {
    for (const def of defs) {
      const had = this.defs.get(def.type);
      if (had && had !== def) throw new Error(`XNODE type '${def.type}' registered twice`);
      this.defs.set(def.type, def);
    }
    return this;
  }

  get(type: string): XNodeDef | undefined {
    return this.defs.get(type);
  }

  types(): string[] {
    return [...this.defs.keys()].sort();
  }
}
