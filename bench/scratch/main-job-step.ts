// Shared by the scratch scripts that study the main job's AutoMix step (ResNet-18 ×0.25 on 1×28×28,
// replayed as the trainer runs it): synthetic batches, a TrainingRun past its warm-up and two
// captures, and the captured plan's dispatches encoded by raw Dawn calls in one pass.
import { defaultConfig, type Engine, Rng } from '../../src/index.js';
import type { ReplayPlan } from '../../src/replay/plan.js';
import { TrainingRun } from '../../src/train/run.js';
import type { HostBatch } from '../../src/train/steps.js';

export const MAIN_JOB_DATA = { c: 1, h: 28, w: 28, numClasses: 10 };

/** Batch `i` of `B` random images and labels (seeded by i). */
export function mainJobBatch(B: number, i: number): HostBatch {
  const rng = new Rng(500 + i);
  return { x: Float32Array.from({ length: B * 784 }, () => rng.normal()), y: Int32Array.from({ length: B }, () => rng.int(10)), shape: [B, 1, 28, 28] };
}

/** The main job's TrainingRun at batch `B`, its first three steps (warm-up, two captures) taken. */
export async function mainJobRun(e: Engine, B: number): Promise<TrainingRun> {
  const run = new TrainingRun(e, { ...defaultConfig('automix'), width: 0.25 }, MAIN_JOB_DATA);
  for (let i = 0; i < 3; i++) {
    run.step(mainJobBatch(B, i), i);
    await run.results();
  }
  return run;
}

/** Submits `plan`'s dispatches in one compute pass (no copies or clears), then `after` on the same encoder. */
export function submitPlanDispatches(device: GPUDevice, plan: ReplayPlan, after?: (enc: GPUCommandEncoder) => void): void {
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  for (const d of plan.dispatchList()) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(...d.workgroups);
  }
  pass.end();
  after?.(enc);
  device.queue.submit([enc.finish()]);
}
