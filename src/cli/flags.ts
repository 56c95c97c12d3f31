/** Numeric flags of the CLI's commands, checked with messages that name the flag and what it takes. */
import { ConfigError } from '../train/config.js';

/**
 * The integer value of `--flag` (`fallback` when absent), in [min, max].
 * @throws ConfigError `--pairs: must be an integer from 1 to 256, got '2.5'`.
 */
export function intFlag(flag: string, v: string | undefined, fallback: number, range: { min: number; max?: number }): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < range.min || (range.max !== undefined && n > range.max)) {
    const what =
      range.max !== undefined ? `an integer from ${range.min} to ${range.max}` : range.min === 0 ? 'a non-negative integer' : `an integer ≥ ${range.min}`;
    throw new ConfigError(`--${flag}: must be ${what}, got '${v}'`);
  }
  return n;
}
