// The plain progress line of `automix train` when stdout is not a terminal.
import { describe, expect, it } from 'vitest';
import { fmtDuration, fmtEpoch, stepLine } from '../../src/cli/main.js';

describe('automix train: plain log lines', () => {
  it('formats durations as h/m/s', () => {
    expect(fmtDuration(42.4)).toBe('42s');
    expect(fmtDuration(429)).toBe('7m 09s');
    expect(fmtDuration(3900)).toBe('1h 05m');
    expect(fmtDuration(Infinity)).toBe('?');
  });

  it('says the time left in the epoch and in the run at the current rate', () => {
    // Epoch 3 of 10, step 460 of 600, 100 images per step at 25 img/s = 4 s a step:
    // 140 steps left here (560 s), then 7 epochs × 600 steps (16 800 s).
    const line = stepLine({ epoch: 2, epochs: 10, index: 459, steps: 600, batchSize: 100, loss: 0.27281, imagesPerS: 25 });
    expect(line).toBe('epoch 3 step 460/600 loss 0.2728 25.0 img/s eta epoch 9m 20s, run 4h 49m + test passes');
  });

  it('names the adapters of an epoch only when it moved between them', () => {
    const rec = {
      epoch: 7,
      lr: 0.035,
      train_loss: 0.2137,
      terms: { loss: 0.2137 },
      test_acc: 0.9173,
      test_acc_heads: {},
      seconds: 1589.9,
      images_per_s: 37.7,
      test_seconds: 1.1,
    };
    expect(fmtEpoch({ ...rec, adapters: ['nvidia-h100-80gb-hbm3'] })).toBe(
      'epoch 7: loss 0.2137 (loss 0.2137)  test acc 91.73%  1589.9 s  37.7 img/s  (test pass 1.1 s)',
    );
    expect(fmtEpoch({ ...rec, adapters: ['llvmpipe (software)', 'nvidia-h100-80gb-hbm3'] })).toMatch(
      /37\.7 img\/s .*\(trained on llvmpipe \(software\) \+ nvidia-h100-80gb-hbm3\)$/,
    );
  });
});
