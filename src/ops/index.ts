/** All ops, as `ops.add(a, b)` etc. */
export { add, sub, mul, axpby, affine, scale, relu } from './elementwise.js';
export { sum, mean, sumToShape } from './reduce.js';
export { matmul, type MatmulOptions } from './matmul.js';
export { reshape, detach } from './shape.js';
export { fill, zeros, ones, copy } from './creation.js';
