/** Optimisers, EMA and schedules over ParamSet arenas (kernels/optim.wgsl). */
export { SGD, type SGDGroup, type SGDGroupOptions } from './sgd.js';
export { AdamW, type AdamWGroup, type AdamWGroupOptions } from './adamw.js';
export { emaUpdate, emaCoefficients, copyParams } from './ema.js';
export { cosineLr, automixMomentum, scaledEmaStart, type WarmupOptions } from './schedule.js';
export { layoutMismatch, OPTIM_FAMILY } from './layout.js';
