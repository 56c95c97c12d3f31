/**
 * A conv2d test case — input and weight shapes, the op's options, whether it
 * has a bias — and the f64 reference's geometry for it, resolved here from
 * the options independently of the op's own `conv2dShape`.
 */
import type { Conv2dOptions } from '../../src/ops/conv2d.js';
import type { Conv2dGeom } from '../../src/reference/conv2d.js';

export interface Conv2dCase {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  o?: Conv2dOptions;
  bias?: boolean;
}

const pair = (v: number | [number, number] | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v);

/** The reference's geometry of a case: stride 1, padding 0, dilation 1 and groups 1 unless given. */
export function conv2dCaseGeom(c: Conv2dCase): Conv2dGeom {
  const [sh, sw] = pair(c.o?.stride, 1);
  const [ph, pw] = pair(c.o?.padding, 0);
  const [dh, dw] = pair(c.o?.dilation, 1);
  return { N: c.x[0], C: c.x[1], H: c.x[2], W: c.x[3], O: c.w[0], KH: c.w[2], KW: c.w[3], sh, sw, ph, pw, dh, dw, groups: c.o?.groups ?? 1 };
}
