/**
 * The size roundings the conv2d paths share, one per meaning: widths padded
 * for vec4 operands, the direct core's column octets, and counts of 4-element
 * groups (vec4s, channel quads).
 */

/** n rounded up to a multiple of 4: the zero-padded width of a vec4 operand (im2col's CKp, HWp, Kp, Op). */
export const roundUpTo4 = (n: number): number => Math.ceil(n / 4) * 4;

/** n rounded up to a multiple of 8: the direct core's columns, 8 per invocation (Q8). */
export const roundUpTo8 = (n: number): number => Math.ceil(n / 8) * 8;

/** How many groups of 4 hold n items: vec4s of a row, or channel quads (OQ, JQ). */
export const quadsOf = (n: number): number => Math.ceil(n / 4);
