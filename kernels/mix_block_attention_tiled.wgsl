// Mix Block attention, fused, for GPUs: the forward and backward of the fused
// form of mix_block_attention.wgsl (same math, same buffers) with
// workgroup-memory tiles and register tiles.
//
//   s[n, i] = Σ_j A_ij v_j,   A_ij = exp(Q_i·K_j·scale − lse_i),   lse_i = log Σ_j exp(Q_i·K_j·scale)
//   dU_ij   = scale·A_ij·ds_i·(v_j − s_i)        (∂L/∂(Q_i·K_j); Σ_j A_ij v_j = s_i)
//   dQ_i    = Σ_j dU_ij K_j,   dK_j = Σ_i dU_ij Q_i,   dv_j = Σ_i A_ij ds_i
//
// Layout (mix_block_attention.wgsl): P [N, d+1, L] channel-major, a channel's
// L positions contiguous; Q[n, c, i] = P[n, c, i] + cq[c],
// K[n, c, j] = P[π[n], c, j] + ck[c], v[n, j] = P[π[n], d, j] + cv, with
// consts = [cq (d), ck (d), cv]. s, lse, ds are [N, L].
//
// Tiling (override constants, chosen per adapter by the autotuner:
// src/ops/mix-block-attention-tuning.ts, docs/kernels/mix-block-attention.md):
//  * a workgroup owns BQ queries of one sample (forward) or a BQ × BK block of
//    (query, key) pairs (backward);
//  * Q and K are staged in workgroup memory DC channels at a time (DC % 4 = 0),
//    position-major with the channels as vec4: qs[ii][c/4] (BQ rows), ks[jj][c/4]
//    (BK rows), zero past d and past L, rows padded by one vec4 (DCP = DC/4 + 1)
//    so that neighbouring rows start in different banks. Any d runs with a
//    fixed footprint. The partner's keys are the same for all queries of a
//    sample, so one staged K block serves the workgroup's BQ queries;
//  * WG = (BQ/TQ)·(BK/TK) invocations; invocation (tq, tk) holds a TQ × TK
//    register tile of scores, queries tq + r·(BQ/TQ) and keys tk + t·(BK/TK);
//    per 4 channels it reads TQ + TK vec4 for 4·TQ·TK FMAs. TQ, TK ≤ 8: the
//    register arrays have constant sizes and the loops override bounds, so
//    they unroll once the pipeline is built.
//
// mb_attn_fwd_tiled — grid (⌈L/BQ⌉, N). Each invocation walks the key blocks
// keeping its own online softmax (running max m, sum l, Σ e·v) per query over
// its TK keys of each block: no communication per block. At the end the
// BK/TK partial states of a query are merged through workgroup memory (the
// largest m, then the rescaled sums) and s, lse are written.
//
// mb_attn_bwd_tiled — grid (⌈L/BQ⌉, ⌈L/BK⌉, N). The scores of the block are
// computed once; dU goes to workgroup memory (dus [BQ][BK+1], padded so a
// column read across invocations hits distinct banks), dv over the block's
// queries is reduced there too; then, DC channels at a time, an invocation
// computes 4 channels of dQ for one query over the block's keys (one dus word
// and one broadcast ks vec4 per 4 FMAs) or 4 channels of dK for one key over
// the block's queries. The partial sums are written in parts, summed by
// mb_combine (no float atomics, so the result is deterministic):
//   out  = dQ parts [⌈L/BK⌉, N, d, L]           (part = key block)
//   out2 = dK and dv parts [⌈L/BQ⌉, N, d+1, L]  (part = query block; channel d
//          is dv, as in P — one buffer, so the kernel binds 8 storage
//          buffers, WebGPU's default per-stage limit)
// For L ≤ BQ, BK (CIFAR's 8×8, Fashion-MNIST's 7×7) there is one part of each
// and the scores are computed once for the whole backward.
//
// Workgroup memory (sizes set by the host, tiledSmem in
// src/ops/mix-block-attention-plan.ts): tiles = qs | ks, (BQ + BK)·DCP vec4;
// sm, SMEM words: forward m | l | acc, each [BQ][BK/TK], to merge; backward
// dus | the dv partial sums [BQ/TQ][BK].

override BQ: u32 = 64u;
override BK: u32 = 64u;
override DC: u32 = 16u;
override TQ: u32 = 4u;
override TK: u32 = 4u;
override WG: u32 = 256u;
// words of sm and vec4 of tiles (see above)
override SMEM: u32 = 5184u;
override TILES: u32 = 640u;

const NEG: f32 = -3.0e38;

struct Params {
  N: u32,
  d: u32,
  L: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> proj: array<f32>;
@group(0) @binding(2) var<storage, read> perm: array<i32>;
@group(0) @binding(3) var<storage, read> consts: array<f32>;
@group(0) @binding(4) var<storage, read> ds: array<f32>;
@group(0) @binding(5) var<storage, read> s_fwd: array<f32>;
@group(0) @binding(6) var<storage, read> lse: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;
@group(0) @binding(8) var<storage, read_write> out2: array<f32>;

var<workgroup> tiles: array<vec4f, TILES>;
var<workgroup> sm: array<f32, SMEM>;

// π[n], clamped into the batch (as mix_block_attention.wgsl).
fn partner(n: u32) -> u32 {
  return u32(clamp(perm[n], 0, i32(p.N) - 1));
}

// Row stride of qs and ks, in vec4: DC/4 channels and one of padding.
fn dcp() -> u32 {
  return DC / 4u + 1u;
}

// Q[n, c, i] for the staging: 0 past d or L.
fn q_at(qb: u32, c: u32, i: u32) -> f32 {
  if (c >= p.d || i >= p.L) { return 0.0; }
  return proj[qb + c * p.L + i] + consts[c];
}

fn k_at(kb: u32, c: u32, j: u32) -> f32 {
  if (c >= p.d || j >= p.L) { return 0.0; }
  return proj[kb + c * p.L + j] + consts[p.d + c];
}

// Vec4 groups of channels that hold data in the step starting at channel c0:
// ⌈min(DC, d − c0)/4⌉. The loops over them (and over the keys or queries that
// exist, below) have runtime bounds: the last step of a d that is not a
// multiple of DC, and the last block of an L that is not a multiple of the
// block, skip their zero padding, and a CPU adapter's compiler does not
// unroll them (fully unrolled, they took seconds to compile on llvmpipe).
fn c4_count(c0: u32) -> u32 {
  return (min(DC, p.d - c0) + 3u) / 4u;
}

// Stages channels c0 .. c0+DC of Q (queries q0 ..) into qs = tiles[0 ..] and
// of K (keys j0 ..) into ks = tiles[BQ·DCP ..]. Consecutive invocations take
// consecutive positions, so each of the four scalar loads is coalesced.
fn stage(tid: u32, qb: u32, kb: u32, q0: u32, j0: u32, c0: u32) {
  let D4 = c4_count(c0);
  for (var e = tid; e < BQ * D4; e += WG) {
    let ii = e % BQ;
    let c = c0 + 4u * (e / BQ);
    let i = q0 + ii;
    tiles[ii * dcp() + e / BQ] = vec4f(q_at(qb, c, i), q_at(qb, c + 1u, i), q_at(qb, c + 2u, i), q_at(qb, c + 3u, i));
  }
  for (var e = tid; e < BK * D4; e += WG) {
    let jj = e % BK;
    let c = c0 + 4u * (e / BK);
    let j = j0 + jj;
    tiles[(BQ + jj) * dcp() + e / BK] = vec4f(k_at(kb, c, j), k_at(kb, c + 1u, j), k_at(kb, c + 2u, j), k_at(kb, c + 3u, j));
  }
}

// Invocation (tq, tk)'s score tile, unscaled: sc[r·TK + t] = Q_i·K_j with
// i = q0 + tq + r·(BQ/TQ), j = j0 + tk + t·(BK/TK). Ends with a barrier, so
// the caller may restage the tiles right away.
fn score_tile(tid: u32, tq: u32, tk: u32, qb: u32, kb: u32, q0: u32, j0: u32) -> array<f32, 64> {
  let QL = BQ / TQ;
  let KL = BK / TK;
  var sc: array<f32, 64>;
  for (var x = 0u; x < TQ * TK; x++) { sc[x] = 0.0; }
  for (var c0 = 0u; c0 < p.d; c0 += DC) {
    workgroupBarrier();
    stage(tid, qb, kb, q0, j0, c0);
    workgroupBarrier();
    let c4n = c4_count(c0);
    for (var c4 = 0u; c4 < c4n; c4++) {
      var qv: array<vec4f, 8>;
      var kv: array<vec4f, 8>;
      for (var r = 0u; r < TQ; r++) { qv[r] = tiles[(tq + r * QL) * dcp() + c4]; }
      for (var t = 0u; t < TK; t++) { kv[t] = tiles[(BQ + tk + t * KL) * dcp() + c4]; }
      for (var r = 0u; r < TQ; r++) {
        for (var t = 0u; t < TK; t++) { sc[r * TK + t] += dot(qv[r], kv[t]); }
      }
    }
  }
  workgroupBarrier();
  return sc;
}

// out = s [N, L], out2 = lse [N, L].
@compute @workgroup_size(WG)
fn mb_attn_fwd_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let QL = BQ / TQ;
  let KL = BK / TK;
  let tq = tid / KL;
  let tk = tid % KL;
  let n = wid.y;
  let q0 = wid.x * BQ;
  let dp = p.d + 1u;
  let qb = n * dp * p.L;
  let kb = partner(n) * dp * p.L;
  let cv = consts[2u * p.d];
  var m: array<f32, 8>;
  var l: array<f32, 8>;
  var acc: array<f32, 8>;
  for (var r = 0u; r < TQ; r++) {
    m[r] = NEG;
    l[r] = 0.0;
    acc[r] = 0.0;
  }
  for (var j0 = 0u; j0 < p.L; j0 += BK) {
    let sc = score_tile(tid, tq, tk, qb, kb, q0, j0);
    var vt: array<f32, 8>;
    var ok: array<bool, 8>;
    for (var t = 0u; t < TK; t++) {
      let j = j0 + tk + t * KL;
      ok[t] = j < p.L;
      vt[t] = select(0.0, proj[kb + p.d * p.L + min(j, p.L - 1u)] + cv, ok[t]);
    }
    for (var r = 0u; r < TQ; r++) {
      var mx = m[r];
      for (var t = 0u; t < TK; t++) {
        if (ok[t]) { mx = max(mx, sc[r * TK + t] * p.scale); }
      }
      // m = NEG until a valid key was seen: then corr = 1 and l, acc stay 0.
      let corr = exp(m[r] - mx);
      var lr = l[r] * corr;
      var ar = acc[r] * corr;
      for (var t = 0u; t < TK; t++) {
        let e = select(0.0, exp(sc[r * TK + t] * p.scale - mx), ok[t]);
        lr += e;
        ar = fma(e, vt[t], ar);
      }
      m[r] = mx;
      l[r] = lr;
      acc[r] = ar;
    }
  }
  // Merge the BK/TK partial states of each query.
  let area = BQ * KL;
  for (var r = 0u; r < TQ; r++) {
    let at = (tq + r * QL) * KL + tk;
    sm[at] = m[r];
    sm[area + at] = l[r];
    sm[2u * area + at] = acc[r];
  }
  workgroupBarrier();
  // Lanes tk ≥ L saw no key (their l is 0): a runtime bound, which also keeps llvmpipe from unrolling.
  let lanes = min(KL, p.L);
  for (var ii = tid; ii < BQ; ii += WG) {
    let i = q0 + ii;
    if (i < p.L) {
      var mx = NEG;
      for (var u = 0u; u < lanes; u++) { mx = max(mx, sm[ii * KL + u]); }
      var lsum = 0.0;
      var asum = 0.0;
      for (var u = 0u; u < lanes; u++) {
        let w = exp(sm[ii * KL + u] - mx);
        lsum = fma(sm[area + ii * KL + u], w, lsum);
        asum = fma(sm[2u * area + ii * KL + u], w, asum);
      }
      out[n * p.L + i] = asum / lsum;
      out2[n * p.L + i] = mx + log(lsum);
    }
  }
}

// out = dQ parts, out2 = dK and dv parts (see the header).
@compute @workgroup_size(WG)
fn mb_attn_bwd_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let QL = BQ / TQ;
  let KL = BK / TK;
  let tq = tid / KL;
  let tk = tid % KL;
  let n = wid.z;
  let q0 = wid.x * BQ;
  let j0 = wid.y * BK;
  let dp = p.d + 1u;
  let qb = n * dp * p.L;
  let kb = partner(n) * dp * p.L;
  let cv = consts[2u * p.d];
  let DUS = BK + 1u;
  let dv_at = BQ * DUS;

  let sc = score_tile(tid, tq, tk, qb, kb, q0, j0);
  var vt: array<f32, 8>;
  var okj: array<bool, 8>;
  for (var t = 0u; t < TK; t++) {
    let j = j0 + tk + t * KL;
    okj[t] = j < p.L;
    vt[t] = select(0.0, proj[kb + p.d * p.L + min(j, p.L - 1u)] + cv, okj[t]);
  }
  var dvp: array<f32, 8>;
  for (var t = 0u; t < TK; t++) { dvp[t] = 0.0; }
  for (var r = 0u; r < TQ; r++) {
    let i = q0 + tq + r * QL;
    let ic = min(i, p.L - 1u);
    // ds_i = 0 past L, which zeroes that row of dU and its share of dv.
    let dsi = select(0.0, ds[n * p.L + ic], i < p.L);
    let si = s_fwd[n * p.L + ic];
    let li = lse[n * p.L + ic];
    for (var t = 0u; t < TK; t++) {
      let ads = select(0.0, exp(sc[r * TK + t] * p.scale - li), okj[t]) * dsi;
      dvp[t] += ads;
      sm[(tq + r * QL) * DUS + tk + t * KL] = p.scale * ads * (vt[t] - si);
    }
  }
  // dQ over this block's keys and dK over its queries (below), and dv; a dK
  // part has d+1 channels, the last one dv.
  let qpart = (wid.y * p.N + n) * p.d;
  let kpart = (wid.x * p.N + n) * dp;
  // dv over this block's queries: the BQ/TQ partial sums of each key.
  for (var t = 0u; t < TK; t++) { sm[dv_at + tq * BK + tk + t * KL] = dvp[t]; }
  workgroupBarrier();
  for (var jj = tid; jj < BK; jj += WG) {
    let j = j0 + jj;
    if (j < p.L) {
      var a = 0.0;
      for (var u = 0u; u < QL; u++) { a += sm[dv_at + u * BK + jj]; }
      out2[(kpart + p.d) * p.L + j] = a;
    }
  }
  // DC channels at a time: an invocation takes 4 channels of one query (or key).
  // Keys and queries of the block past L have dU = 0: not summed.
  let kn = min(BK, p.L - j0);
  let qn = min(BQ, p.L - q0);
  for (var c0 = 0u; c0 < p.d; c0 += DC) {
    workgroupBarrier();
    stage(tid, qb, kb, q0, j0, c0);
    workgroupBarrier();
    let D4 = c4_count(c0);
    for (var e = tid; e < BQ * D4; e += WG) {
      let ii = e % BQ;
      let c4 = e / BQ;
      var a = vec4f(0.0);
      for (var jj = 0u; jj < kn; jj++) { a = fma(vec4f(sm[ii * DUS + jj]), tiles[(BQ + jj) * dcp() + c4], a); }
      let i = q0 + ii;
      let c = c0 + 4u * c4;
      if (i < p.L) {
        for (var k = 0u; k < 4u; k++) {
          if (c + k < p.d) { out[(qpart + c + k) * p.L + i] = a[k]; }
        }
      }
    }
    for (var e = tid; e < BK * D4; e += WG) {
      let jj = e % BK;
      let c4 = e / BK;
      var a = vec4f(0.0);
      for (var ii = 0u; ii < qn; ii++) { a = fma(vec4f(sm[ii * DUS + jj]), tiles[ii * dcp() + c4], a); }
      let j = j0 + jj;
      let c = c0 + 4u * c4;
      if (j < p.L) {
        for (var k = 0u; k < 4u; k++) {
          if (c + k < p.d) { out2[(kpart + c + k) * p.L + j] = a[k]; }
        }
      }
    }
  }
}
