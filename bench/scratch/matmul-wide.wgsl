// Experiment (bench/scratch/matmul-wide.ts, appended to kernels/matmul_sg.wgsl; not kept):
// matmul_sg8 with 64 columns per workgroup — lane l owns column quads 8·(2·wid.x)+l and +8,
// so B loads per FMA drop by half at the cost of twice the accumulators. Same summation
// order (bit-identical); measured no faster than sg8 (docs/kernels/matmul.md).

// ---- matmul_sg8_w: the same with 64 columns per workgroup (two column quads per lane) ----

// Eight rows for two column quads: one set of broadcasts feeds both.
fn rows8x2(acc: ptr<function, array<vec4f, 8>>, acc2: ptr<function, array<vec4f, 8>>, al: vec4f,
           bk0: vec4f, bk1: vec4f, bk2: vec4f, bk3: vec4f, ck0: vec4f, ck1: vec4f, ck2: vec4f, ck3: vec4f) {
  let v0 = subgroupBroadcast(al, 0u);
  let v1 = subgroupBroadcast(al, 1u);
  let v2 = subgroupBroadcast(al, 2u);
  let v3 = subgroupBroadcast(al, 3u);
  let v4 = subgroupBroadcast(al, 4u);
  let v5 = subgroupBroadcast(al, 5u);
  let v6 = subgroupBroadcast(al, 6u);
  let v7 = subgroupBroadcast(al, 7u);
  var r: array<vec4f, 8>;
  if (TRANS_A) {
    r[0] = vec4f(v0.x, v1.x, v2.x, v3.x);
    r[1] = vec4f(v0.y, v1.y, v2.y, v3.y);
    r[2] = vec4f(v0.z, v1.z, v2.z, v3.z);
    r[3] = vec4f(v0.w, v1.w, v2.w, v3.w);
    r[4] = vec4f(v4.x, v5.x, v6.x, v7.x);
    r[5] = vec4f(v4.y, v5.y, v6.y, v7.y);
    r[6] = vec4f(v4.z, v5.z, v6.z, v7.z);
    r[7] = vec4f(v4.w, v5.w, v6.w, v7.w);
  } else {
    r[0] = v0; r[1] = v1; r[2] = v2; r[3] = v3; r[4] = v4; r[5] = v5; r[6] = v6; r[7] = v7;
  }
  (*acc)[0] = step((*acc)[0], r[0], bk0, bk1, bk2, bk3);
  (*acc2)[0] = step((*acc2)[0], r[0], ck0, ck1, ck2, ck3);
  (*acc)[1] = step((*acc)[1], r[1], bk0, bk1, bk2, bk3);
  (*acc2)[1] = step((*acc2)[1], r[1], ck0, ck1, ck2, ck3);
  (*acc)[2] = step((*acc)[2], r[2], bk0, bk1, bk2, bk3);
  (*acc2)[2] = step((*acc2)[2], r[2], ck0, ck1, ck2, ck3);
  (*acc)[3] = step((*acc)[3], r[3], bk0, bk1, bk2, bk3);
  (*acc2)[3] = step((*acc2)[3], r[3], ck0, ck1, ck2, ck3);
  (*acc)[4] = step((*acc)[4], r[4], bk0, bk1, bk2, bk3);
  (*acc2)[4] = step((*acc2)[4], r[4], ck0, ck1, ck2, ck3);
  (*acc)[5] = step((*acc)[5], r[5], bk0, bk1, bk2, bk3);
  (*acc2)[5] = step((*acc2)[5], r[5], ck0, ck1, ck2, ck3);
  (*acc)[6] = step((*acc)[6], r[6], bk0, bk1, bk2, bk3);
  (*acc2)[6] = step((*acc2)[6], r[6], ck0, ck1, ck2, ck3);
  (*acc)[7] = step((*acc)[7], r[7], bk0, bk1, bk2, bk3);
  (*acc2)[7] = step((*acc2)[7], r[7], ck0, ck1, ck2, ck3);
}

// op(B)[4·k4 .. +3, 4·n4 .. +3] as four vec4 along n.
fn load_b4(bbase: u32, n4: u32, k4: u32, K4: u32, N4: u32) -> array<vec4f, 4> {
  var o: array<vec4f, 4>;
  if (TRANS_B) {
    let r0 = b[bbase + (4u * n4 + 0u) * K4 + k4];
    let r1 = b[bbase + (4u * n4 + 1u) * K4 + k4];
    let r2 = b[bbase + (4u * n4 + 2u) * K4 + k4];
    let r3 = b[bbase + (4u * n4 + 3u) * K4 + k4];
    o[0] = vec4f(r0.x, r1.x, r2.x, r3.x);
    o[1] = vec4f(r0.y, r1.y, r2.y, r3.y);
    o[2] = vec4f(r0.z, r1.z, r2.z, r3.z);
    o[3] = vec4f(r0.w, r1.w, r2.w, r3.w);
  } else {
    let kb = bbase + 4u * k4 * N4 + n4;
    o[0] = b[kb];
    o[1] = b[kb + N4];
    o[2] = b[kb + 2u * N4];
    o[3] = b[kb + 3u * N4];
  }
  return o;
}

@compute @workgroup_size(8, 1, 1)
fn matmul_sg8_w(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let l = lid.x;
  let batch = wid.z;
  let m0 = wid.y * TM;
  let N4 = p.N / 4u;
  let K4 = p.K / 4u;
  // Lane l owns column quads n4 and n4 + 8 (so each k row of the tile is two contiguous 128-byte runs).
  let n4 = wid.x * 16u + l;
  let n4b = n4 + 8u;
  let n4c = min(n4, N4 - 1u);
  let n4bc = min(n4b, N4 - 1u);
  let abase = batch * p.a_batch_stride / 4u;
  let bbase = batch * p.b_batch_stride / 4u;
  var acc0: array<vec4f, 8>;
  var acc1: array<vec4f, 8>;
  var acc2: array<vec4f, 8>;
  var acc3: array<vec4f, 8>;
  var dcc0: array<vec4f, 8>;
  var dcc1: array<vec4f, 8>;
  var dcc2: array<vec4f, 8>;
  var dcc3: array<vec4f, 8>;
  for (var k4 = 0u; k4 < K4; k4++) {
    let bq = load_b4(bbase, n4c, k4, K4, N4);
    let cq = load_b4(bbase, n4bc, k4, K4, N4);
    rows8x2(&acc0, &dcc0, load_a(abase, m0, 0u, k4, l), bq[0], bq[1], bq[2], bq[3], cq[0], cq[1], cq[2], cq[3]);
    if (TM > 8u) { rows8x2(&acc1, &dcc1, load_a(abase, m0, 8u, k4, l), bq[0], bq[1], bq[2], bq[3], cq[0], cq[1], cq[2], cq[3]); }
    if (TM > 16u) { rows8x2(&acc2, &dcc2, load_a(abase, m0, 16u, k4, l), bq[0], bq[1], bq[2], bq[3], cq[0], cq[1], cq[2], cq[3]); }
    if (TM > 24u) { rows8x2(&acc3, &dcc3, load_a(abase, m0, 24u, k4, l), bq[0], bq[1], bq[2], bq[3], cq[0], cq[1], cq[2], cq[3]); }
  }
  let cbase = batch * p.M * N4;
  if (n4 < N4) {
    var bv = vec4f(0.0);
    if (HAS_BIAS) { bv = vec4f(bias[4u * n4], bias[4u * n4 + 1u], bias[4u * n4 + 2u], bias[4u * n4 + 3u]); }
    store8(&acc0, cbase + n4, m0, N4, bv);
    if (TM > 8u) { store8(&acc1, cbase + n4, m0 + 8u, N4, bv); }
    if (TM > 16u) { store8(&acc2, cbase + n4, m0 + 16u, N4, bv); }
    if (TM > 24u) { store8(&acc3, cbase + n4, m0 + 24u, N4, bv); }
  }
  if (n4b < N4) {
    var bv = vec4f(0.0);
    if (HAS_BIAS) { bv = vec4f(bias[4u * n4b], bias[4u * n4b + 1u], bias[4u * n4b + 2u], bias[4u * n4b + 3u]); }
    store8(&dcc0, cbase + n4b, m0, N4, bv);
    if (TM > 8u) { store8(&dcc1, cbase + n4b, m0 + 8u, N4, bv); }
    if (TM > 16u) { store8(&dcc2, cbase + n4b, m0 + 16u, N4, bv); }
    if (TM > 24u) { store8(&dcc3, cbase + n4b, m0 + 24u, N4, bv); }
  }
}
