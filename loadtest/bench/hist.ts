/** Fixed-bin latency histogram (0.1 ms bins up to 10 s): cheap to merge across processes, exact enough. */
export const BIN_MS = 0.1;
export const BINS = 100_000;

export class Histogram {
  readonly bins: Uint32Array;
  count = 0;
  sum = 0;
  max = 0;
  constructor(bins?: ArrayLike<number>) {
    this.bins = new Uint32Array(BINS + 1);
    if (bins) {
      this.bins.set(bins);
      for (let i = 0; i < this.bins.length; i++) {
        const n = this.bins[i] as number;
        this.count += n;
        this.sum += n * (i + 0.5) * BIN_MS;
        if (n) this.max = (i + 1) * BIN_MS;
      }
    }
  }
  add(ms: number, times = 1): void {
    const v = Math.max(0, ms);
    const i = Math.min(BINS, Math.floor(v / BIN_MS));
    this.bins[i] = (this.bins[i] as number) + times;
    this.count += times;
    this.sum += v * times;
    if (v > this.max) this.max = v;
  }
  merge(o: Histogram): void {
    for (let i = 0; i < this.bins.length; i++)
      this.bins[i] = (this.bins[i] as number) + (o.bins[i] as number);
    this.count += o.count;
    this.sum += o.sum;
    this.max = Math.max(this.max, o.max);
  }
  percentile(p: number): number | null {
    if (this.count === 0) return null;
    const target = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < this.bins.length; i++) {
      seen += this.bins[i] as number;
      if (seen >= target) return Math.min((i + 1) * BIN_MS, this.max);
    }
    return this.max;
  }
  /** Sparse form for IPC: [binIndex, count] pairs. */
  toSparse(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.bins.length; i++) if (this.bins[i]) out.push([i, this.bins[i] as number]);
    return out;
  }
  static fromSparse(pairs: Array<[number, number]>): Histogram {
    const h = new Histogram();
    for (const [i, n] of pairs) {
      h.bins[i] = n;
      h.count += n;
      h.sum += n * (i + 0.5) * BIN_MS;
      h.max = Math.max(h.max, (i + 1) * BIN_MS);
    }
    return h;
  }
  summary(): {
    count: number;
    p50: number | null;
    p95: number | null;
    p99: number | null;
    max: number | null;
  } {
    const r = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
    return {
      count: this.count,
      p50: r(this.percentile(50)),
      p95: r(this.percentile(95)),
      p99: r(this.percentile(99)),
      max: this.count ? r(this.max) : null,
    };
  }
}
