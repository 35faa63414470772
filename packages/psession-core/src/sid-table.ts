// The live sessions of one port, by sid. Sids are small integers handed out in sequence, so a
// power-of-two array indexed by `id & mask` rarely collides (linear probing handles it when it
// does). Kept at most a quarter full, so one parity (role) alone stays at most half full.
// Unlike a Map it does not rehash as batches of sessions come and go.

interface Entry {
  readonly id: number;
}

export class SidTable<T extends Entry> {
  private slots: (T | undefined)[] = new Array<T | undefined>(16).fill(undefined);
  private mask = 15;
  size = 0;

  get(id: number): T | undefined {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = id & mask; ; i = (i + 1) & mask) {
      const entry = slots[i];
      if (entry === undefined || entry.id === id) return entry;
    }
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds `entry`; its id must not be in the table. */
  add(entry: T): void {
    if ((this.size + 1) * 4 > this.slots.length) this.resize(this.slots.length * 2);
    const slots = this.slots;
    const mask = this.mask;
    let i = entry.id & mask;
    while (slots[i] !== undefined) i = (i + 1) & mask;
    slots[i] = entry;
    this.size++;
  }

  /** Removes `entry` if it is the one stored under its id. */
  delete(entry: T): boolean {
    const slots = this.slots;
    const mask = this.mask;
    let i = entry.id & mask;
    for (;;) {
      const found = slots[i];
      if (found === undefined) return false;
      if (found === entry) break;
      i = (i + 1) & mask;
    }
    slots[i] = undefined;
    this.size--;
    // Backward-shift deletion: pull later entries of the probe run into the hole, so lookups
    // never need tombstones.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const moved = slots[j];
      if (moved === undefined) return true;
      const home = moved.id & mask;
      // Leave `moved` where it is if its home lies cyclically in (i, j].
      if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
      slots[i] = moved;
      slots[j] = undefined;
      i = j;
    }
  }

  /** Snapshot of the entries, in id order. Not for hot paths. */
  values(): T[] {
    const out: T[] = [];
    for (const entry of this.slots) if (entry !== undefined) out.push(entry);
    return out.sort((a, b) => a.id - b.id);
  }

  /** Gives memory back after a peak (called from the manager's periodic sweep, never per message). */
  compact(): void {
    let length = this.slots.length;
    while (length > 16 && this.size * 16 < length) length >>= 1;
    if (length !== this.slots.length) this.resize(length);
  }

  private resize(length: number): void {
    const old = this.slots;
    this.slots = new Array<T | undefined>(length).fill(undefined);
    this.mask = length - 1;
    this.size = 0;
    for (const entry of old) if (entry !== undefined) this.add(entry);
  }
}
