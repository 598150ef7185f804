/** Where one cached reply is: which file (by its number), at which byte, how long. */
export interface CacheLocation {
  file: number;
  offset: number;
  length: number;
}

const EMPTY = 0xffffffff;
const MAX_LOAD = 0.7;

/**
 * Request key → location of the reply, in typed arrays: an open-addressing table over 128 bits of each
 * key (the full key is checked against the line on disk when it is read). 32 bytes a slot, 46–91 an
 * entry at the loads it keeps (`npm run bench -- --only scale` measures 56–67), where the Map of
 * 64-hex strings to objects it replaced took 157–176: at a million samples, several million cached
 * calls, that is hundreds of megabytes of heap.
 */
export class CacheIndex {
  private capacity = 1024;
  private keys = new Uint32Array(this.capacity * 4);
  private files = new Uint32Array(this.capacity).fill(EMPTY);
  private offsets = new Float64Array(this.capacity);
  private lengths = new Uint32Array(this.capacity);
  size = 0;

  get(key: string): CacheLocation | undefined {
    const k = words(key);
    const slot = this.find(k);
    if (this.files[slot] === EMPTY) return undefined;
    return { file: this.files[slot]!, offset: this.offsets[slot]!, length: this.lengths[slot]! };
  }

  set(key: string, at: CacheLocation): void {
    if ((this.size + 1) / this.capacity > MAX_LOAD) this.grow();
    this.put(words(key), at.file, at.offset, at.length);
  }

  /** The slot holding `k`, or the empty slot where it would go. */
  private find(k: Uint32Array): number {
    const mask = this.capacity - 1;
    let slot = (k[0]! ^ k[1]! ^ k[2]! ^ k[3]!) & mask;
    for (;;) {
      if (this.files[slot] === EMPTY) return slot;
      const base = slot * 4;
      if (this.keys[base] === k[0] && this.keys[base + 1] === k[1] && this.keys[base + 2] === k[2] && this.keys[base + 3] === k[3]) return slot;
      slot = (slot + 1) & mask;
    }
  }

  private put(k: Uint32Array, file: number, offset: number, length: number): void {
    const slot = this.find(k);
    if (this.files[slot] === EMPTY) {
      this.size++;
      this.keys.set(k, slot * 4);
    }
    this.files[slot] = file;
    this.offsets[slot] = offset;
    this.lengths[slot] = length;
  }

  private grow(): void {
    const { keys, files, offsets, lengths } = this;
    const old = this.capacity;
    this.capacity *= 2;
    this.keys = new Uint32Array(this.capacity * 4);
    this.files = new Uint32Array(this.capacity).fill(EMPTY);
    this.offsets = new Float64Array(this.capacity);
    this.lengths = new Uint32Array(this.capacity);
    this.size = 0;
    for (let slot = 0; slot < old; slot++) if (files[slot] !== EMPTY) this.put(keys.subarray(slot * 4, slot * 4 + 4), files[slot]!, offsets[slot]!, lengths[slot]!);
  }
}

const scratch = new Uint32Array(4);

/**
 * A 64-hex key folded to 128 bits (its two halves XORed, so keys that differ in only one half stay apart) as four
 * words, in a shared scratch array that is used up before the next call.
 */
function words(key: string): Uint32Array {
  for (let i = 0; i < 4; i++) scratch[i] = (parseInt(key.slice(i * 8, i * 8 + 8), 16) ^ parseInt(key.slice(32 + i * 8, 40 + i * 8), 16)) >>> 0;
  return scratch;
}
