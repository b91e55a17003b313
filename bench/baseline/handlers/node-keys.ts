// Stand-in handler of the hand-written baseline (bench only): synth never bundles it (bundling is
// skipped), so only its presence matters to NodejsFunction.
export async function handler(event: unknown): Promise<unknown> {
  return { ok: true, handler: 'node-keys', event };
}
