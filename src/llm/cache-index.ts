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
    const k = wordsOf(key);
    if (!k) return undefined;
    const slot = this.find(k);
    if (this.files[slot] === EMPTY) return undefined;
    return { file: this.files[slot]!, offset: this.offsets[slot]!, length: this.lengths[slot]! };
  }

  set(key: string, at: CacheLocation): void {
    const k = wordsOf(key);
    if (!k) throw new Error('a cache key is 64 lowercase hex digits');
    this.setWords(k, at.file, at.offset, at.length);
  }

  /** Sets the key given as its 128-bit fold (four words, as `keyWordsFromBytes` gives them). */
  setWords(k: Uint32Array, file: number, offset: number, length: number): void {
    if ((this.size + 1) / this.capacity > MAX_LOAD) this.grow();
    this.put(k, file, offset, length);
  }

  /** Makes room for `more` keys at once, so loading many does not rehash the table again and again. */
  reserve(more: number): void {
    let capacity = this.capacity;
    while ((this.size + more) / capacity > MAX_LOAD) capacity *= 2;
    if (capacity > this.capacity) this.grow(capacity);
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

  private grow(capacity = this.capacity * 2): void {
    const { keys, files, offsets, lengths } = this;
    const old = this.capacity;
    this.capacity = capacity;
    this.keys = new Uint32Array(this.capacity * 4);
    this.files = new Uint32Array(this.capacity).fill(EMPTY);
    this.offsets = new Float64Array(this.capacity);
    this.lengths = new Uint32Array(this.capacity);
    this.size = 0;
    for (let slot = 0; slot < old; slot++) if (files[slot] !== EMPTY) this.put(keys.subarray(slot * 4, slot * 4 + 4), files[slot]!, offsets[slot]!, lengths[slot]!);
  }
}

const scratch = new Uint32Array(4);
const HEX = new Int8Array(128).fill(-1);
for (let d = 0; d < 16; d++) HEX['0123456789abcdef'.charCodeAt(d)] = d;

/** The 128-bit fold of the 64 hex digits at `bytes[start…]`, in a scratch array the next call overwrites; undefined when they are not hex. */
export function keyWordsFromBytes(bytes: Uint8Array, start: number): Uint32Array | undefined {
  return foldHex((i) => bytes[start + i] ?? 0);
}

function wordsOf(key: string): Uint32Array | undefined {
  return key.length === 64 ? foldHex((i) => key.charCodeAt(i)) : undefined;
}

/**
 * 64 hex digits (given by character code) folded to 128 bits, the two halves XORed so keys that differ
 * in only one half stay apart, as four words in a shared scratch array that is used up before the next
 * call. Read digit by digit: scanning a cache file does this for every line.
 */
function foldHex(code: (i: number) => number): Uint32Array | undefined {
  for (let w = 0; w < 4; w++) {
    let word = 0;
    for (let i = 0; i < 8; i++) {
      const hi = HEX[code(w * 8 + i)] ?? -1;
      const lo = HEX[code(32 + w * 8 + i)] ?? -1;
      if (hi < 0 || lo < 0) return undefined;
      word = (word << 4) | (hi ^ lo);
    }
    scratch[w] = word >>> 0;
  }
  return scratch;
}
