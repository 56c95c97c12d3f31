export function rand(n: number, seed = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; out[i] = ((s >>> 0) / 4294967296) * 2 - 1; }
  return out;
}
export function median(xs: number[]): number { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; }

/**
 * Process CPU ms of one dispatch of `pipeline` (median of `reps`, after one warm-up run): on a CPU
 * adapter lavapipe's threads run in this process, so this is the kernel's cost free of the wait.
 */
export async function cpuMsPerDispatch(device: GPUDevice, pipeline: GPUComputePipeline, group: GPUBindGroup, workgroups: number, reps = 5): Promise<number> {
  const run = async () => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(workgroups);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await run();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    await run();
    const d = process.cpuUsage(c0);
    ts.push((d.user + d.system) / 1000);
  }
  return median(ts);
}
