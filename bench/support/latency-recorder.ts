/** Latencies of one load run, in a growing Float64Array (no per-sample allocation). */
export class LatencyRecorder {
  private latencies = new Float64Array(1 << 16);
  /** Samples recorded so far. */
  count = 0;

  record(ms: number): void {
    if (this.count === this.latencies.length) {
      const bigger = new Float64Array(this.latencies.length * 2);
      bigger.set(this.latencies);
      this.latencies = bigger;
    }
    this.latencies[this.count++] = ms;
  }

  /** The recorded samples (a view, not a copy). */
  samples(): Float64Array {
    return this.latencies.subarray(0, this.count);
  }
}
