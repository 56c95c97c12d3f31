// Seeded pseudo-random numbers for everything that must be reproducible:
// data order, augmentation, mixup ratios and pairings. The generator is
// xoshiro128** (32-bit state words, so it runs on plain JS numbers without
// BigInt) seeded through splitmix32. Its whole state is four integers, which a
// checkpoint can store and restore so a resumed run continues the exact stream.

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/** One splitmix32 step: returns the next state and a well-mixed output. */
function splitmix32(state: number): [next: number, out: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [next, z >>> 0];
}

/** Mix an arbitrary JS number (integer or not, possibly negative or > 2^32) into 32 bits. */
function foldKey(key: number): number {
  if (!Number.isFinite(key)) throw new RangeError(`Rng key must be finite, got ${key}`);
  // Split into low/high 32-bit halves so seeds above 2^32 still differ.
  const lo = key >>> 0;
  const hi = Math.floor(key / TWO_POW_32) >>> 0;
  // Non-integer keys keep their fractional part too.
  const frac = Math.floor((key - Math.floor(key)) * TWO_POW_32) >>> 0;
  const [s1, a] = splitmix32(lo);
  const [s2, b] = splitmix32(s1 ^ hi);
  const [, c] = splitmix32(s2 ^ frac);
  return (a ^ Math.imul(b, 0x27d4eb2d) ^ c) >>> 0;
}

/**
 * A small, fast, seedable PRNG (xoshiro128**). Not cryptographic.
 * The full state is four uint32 words; see {@link Rng.getState} / {@link Rng.fromState}.
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** Seed a generator; equal seeds give equal streams. Any finite number is accepted. */
  constructor(seed: number) {
    let s = foldKey(seed);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(s);
      s = next;
      words.push(out);
    }
    this.setWords(words);
  }

  /**
   * A generator derived from several integer keys, e.g. (seed, epoch, batchIndex).
   * Each key tuple gets an independent-looking stream, so shuffles and augmentations
   * for any (epoch, batch) can be regenerated on resume without replaying earlier draws.
   */
  static fromKeys(...keys: number[]): Rng {
    let h = 0x243f6a88; // arbitrary non-zero start (pi digits)
    for (const k of keys) {
      // Hash chaining: the order of keys matters, so (1, 2) != (2, 1).
      h = foldKey(h ^ foldKey(k)) ^ Math.imul(h, 0x9e3779b1);
      h >>>= 0;
    }
    return new Rng(h + keys.length * TWO_POW_32);
  }

  /** Restore a generator from {@link Rng.getState} output. */
  static fromState(state: readonly number[]): Rng {
    if (!Array.isArray(state) || state.length !== 4) {
      throw new RangeError(`Rng state must be an array of 4 uint32 words, got ${JSON.stringify(state)}`);
    }
    for (const w of state) {
      if (!Number.isInteger(w) || w < 0 || w >= TWO_POW_32) {
        throw new RangeError(`Rng state word out of range (need uint32): ${w}`);
      }
    }
    const r = new Rng(0);
    r.setWords(state);
    return r;
  }

  /** The generator's state as four uint32 words (JSON-serialisable). */
  getState(): number[] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** An independent copy with the same state. */
  clone(): Rng {
    return Rng.fromState(this.getState());
  }

  private setWords(w: readonly number[]): void {
    this.s0 = w[0]! | 0;
    this.s1 = w[1]! | 0;
    this.s2 = w[2]! | 0;
    this.s3 = w[3]! | 0;
    // xoshiro's only bad state is all zeros; it would output zeros forever.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 0x9e3779b9 | 0;
  }

  /** Next raw 32-bit output as an unsigned integer in [0, 2^32). */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32() >>> 5; // 27 bits
    const b = this.nextU32() >>> 6; // 26 bits
    return (a * 67108864 + b) / TWO_POW_53;
  }

  /** Uniform integer in [0, n). Exactly unbiased for n <= 2^32 (rejection sampling). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_POW_32) {
      throw new RangeError(`Rng.int(n) needs an integer 1 <= n <= 2^32, got ${n}`);
    }
    // Reject the top partial block of 2^32 so every residue is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal sample (Box–Muller; no cached spare so the state stays four words). */
  normal(): number {
    const u1 = 1 - this.uniform(); // (0, 1], safe for log
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /**
   * Gamma(alpha, 1) sample. alpha >= 1: Marsaglia–Tsang squeeze method;
   * alpha < 1: Gamma(alpha+1) * U^(1/alpha). For very small alpha the result
   * can underflow to 0; {@link Rng.beta} works in log space to avoid that.
   */
  gamma(alpha: number): number {
    return Math.exp(this.logGamma(alpha));
  }

  /** log of a Gamma(alpha, 1) sample, computed without underflow for tiny alpha. */
  private logGamma(alpha: number): number {
    if (!(alpha > 0) || !Number.isFinite(alpha)) {
      throw new RangeError(`gamma/beta shape parameter must be finite and > 0, got ${alpha}`);
    }
    if (alpha < 1) {
      const u = 1 - this.uniform(); // (0, 1]
      return this.logGamma(alpha + 1) + Math.log(u) / alpha;
    }
    const d = alpha - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = 1 - this.uniform();
      const x2 = x * x;
      if (u < 1 - 0.0331 * x2 * x2) return Math.log(d * v);
      if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return Math.log(d * v);
    }
  }

  /** Beta(a, b) sample as G1 / (G1 + G2), evaluated in log space so a, b << 1 stay exact. */
  beta(a: number, b: number): number {
    const l1 = this.logGamma(a);
    const l2 = this.logGamma(b);
    // G1/(G1+G2) = 1 / (1 + exp(l2 - l1)); stable for any magnitudes.
    return 1 / (1 + Math.exp(l2 - l1));
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates; fixed points allowed). */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`permutation(n) needs an integer n >= 0, got ${n}`);
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    this.shuffleInPlace(p);
    return p;
  }

  /** Shuffle an array or typed array in place (Fisher–Yates) and return it. */
  shuffleInPlace<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
