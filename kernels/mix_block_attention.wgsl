// AutoMix Mix Block (docs/method.md §2): patch-to-patch attention from a sample's
// features to its partner's, reduced to one mask logit per position.
//
//   Q = W_q·z_a + b_q,  K = W_q·z_b + b_q,  v = w_v·z_b + b_v   (z_b = z[π])
//   s[n, i] = Σ_j softmax_j(Q_i·K_j / √d) · v_j
//
// Layout. The host packs W_q and w_v into one weight Wcat [d+1, C] (mb_pack)
// and computes the projection of every sample once, with the batched matmul:
//   P[n] = Wcat · z[n]  →  P [N, d+1, L], channel-major like NCHW
//   (rows 0..d−1 project to Q/K space, row d to the value).
// Biases and the optional λ channel are per-row constants, added on the fly:
//   Q[n, k, i] = P[n, k, i]    + cq[k],  cq = b_q + λ·W_q[:, C]
//   K[n, k, j] = P[π[n], k, j] + ck[k],  ck = b_q + (1−λ)·W_q[:, C]
//   v[n, j]    = P[π[n], d, j] + cv,     cv = b_v + (1−λ)·w_v[C]
// (without the λ channel the W_q[:, C] and w_v[C] terms are 0). So a partner
// is never copied: the kernels read P[π[n]] directly.
//
// consts = [cq (d values), ck (d values), cv].
//
// Three forms of the attention run on this layout; which one (and with which
// constants) is the autotuner's choice, src/ops/mix-block-attention-tuning.ts.
//
// Fused, for CPU adapters (mb_attn_fwd / mb_attn_bwd_q / mb_attn_bwd_k): the
// [L, L] score matrix is never stored, and no workgroup memory is used
// (llvmpipe runs barriers as coroutine switches). Forward: one thread owns
// TQ = 4 queries (i = tile·WG·TQ + r·WG + lid, so the per-lane loads
// P[n, k, i] are contiguous across lanes) and walks the partner's keys in
// blocks of TK = 4 with an online softmax (running max m, sum l,
// accumulator); the keys' loads P[π[n], k, j] are uniform across the
// workgroup (broadcasts). Per k step: 4 lane-contiguous loads + 4 broadcasts
// for 16 FMAs. It writes s and lse = m + log l, which the backward uses to
// recompute A = exp(score − lse).
// Backward, with dU_ij = ∂L/∂score_ij (scaled) = scale·A_ij·ds_i·(v_j − s_i):
//   mb_attn_bwd_q: threads own queries:  dQ[:, i] = Σ_j dU_ij K[:, j]
//   mb_attn_bwd_k: threads own keys:     dK[:, j] = Σ_i dU_ij Q[:, i],  dv_j = Σ_i A_ij ds_i
// Each recomputes the scores; the d-long accumulators live in the output
// buffers (each thread owns its columns), not in registers, so any d works.
// dK and dv are indexed by the attention's batch n (keys of sample π[n]);
// mb_combine gathers them onto the partner's rows of dP.
//
// Fused, for GPUs: mix_block_attention_tiled.wgsl (workgroup-memory tiles,
// one score recomputation, dQ/dK/dv written in parts that mb_combine sums).
//
// Unfused: mb_build_qkv materialises Q, K, v; scores and A·v are batched
// matmuls, softmax is attention.wgsl; mb_dscores forms dU from the stored A.
//
// Parameter gradients (every form): mb_combine forms dP [N, d+1, L] and its
// row sums; a batched matmul dP[n]·z[n]ᵀ; mb_unpack sums it over n and
// writes dW_q, db_q, dw_v, db_v.
//
// Grids: fused kernels (⌈L / (WG·TQ)⌉, N); the rest 1-D over their outputs.

override WG: u32 = 64;
const TQ: u32 = 4u;
const TK: u32 = 4u;
const NEG: f32 = -3.0e38;

struct Params {
  N: u32,
  C: u32,
  // C' = C + 1 with the λ channel, else C
  Cp: u32,
  d: u32,
  L: u32,
  // elements handled by a 1-D kernel
  total: u32,
  has_lam: u32,
  lam: f32,
  scale: f32,
  // parts of dQ and of dK, dv that mb_combine sums (1 unless the tiled backward split them)
  nq_parts: u32,
  nk_parts: u32,
  // mb_combine: 1 when dK and dv come packed in gk as [nk_parts, N, d+1, L] (dv the last channel; the tiled backward)
  kv_packed: u32,
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

fn linear(wid: vec3u, nwg: vec3u, lid: vec3u) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid.x;
}

// π[n], clamped into the batch (π must be a permutation with values in [0, N)).
fn partner(n: u32) -> u32 {
  return u32(clamp(perm[n], 0, i32(p.N) - 1));
}

// ---- packing -------------------------------------------------------------

@group(0) @binding(9) var<storage, read> wq: array<f32>;
@group(0) @binding(10) var<storage, read> bq: array<f32>;
@group(0) @binding(11) var<storage, read> wv: array<f32>;
@group(0) @binding(12) var<storage, read> bv: array<f32>;

// out = Wcat [d+1, C] (rows of W_q without the λ column, then w_v);
// out2 = consts [2d + 1]. total = (d+1)·C + 2d + 1.
@compute @workgroup_size(WG)
fn mb_pack(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let t = linear(wid, nwg, lid);
  if (t >= p.total) { return; }
  let nw = (p.d + 1u) * p.C;
  if (t < nw) {
    let r = t / p.C;
    let c = t % p.C;
    if (r < p.d) { out[t] = wq[r * p.Cp + c]; } else { out[t] = wv[c]; }
    return;
  }
  let u = t - nw;
  if (u < 2u * p.d) {
    let k = u % p.d;
    let w = select(0.0, wq[k * p.Cp + p.C], p.has_lam != 0u);
    let l = select(1.0 - p.lam, p.lam, u < p.d);
    out2[u] = bq[k] + l * w;
  } else {
    let w = select(0.0, wv[p.C], p.has_lam != 0u);
    out2[u] = bv[0] + (1.0 - p.lam) * w;
  }
}

// ---- fused attention -----------------------------------------------------

// scores[r][t] = Q[:, qi[r]] · K[:, kj[t]] (unscaled), for one query block and one key block.
fn block_scores(qb: u32, kb: u32, qi: array<u32, TQ>, kj: array<u32, TK>) -> array<array<f32, TK>, TQ> {
  var sc: array<array<f32, TK>, TQ>;
  for (var k = 0u; k < p.d; k++) {
    let row = k * p.L;
    let cqk = consts[k];
    let ckk = consts[p.d + k];
    var kv: array<f32, TK>;
    for (var t = 0u; t < TK; t++) { kv[t] = proj[kb + row + kj[t]] + ckk; }
    for (var r = 0u; r < TQ; r++) {
      let qv = proj[qb + row + qi[r]] + cqk;
      for (var t = 0u; t < TK; t++) { sc[r][t] = fma(qv, kv[t], sc[r][t]); }
    }
  }
  return sc;
}

// out = s [N, L], out2 = lse [N, L]. Grid (⌈L/(WG·TQ)⌉, N).
@compute @workgroup_size(WG)
fn mb_attn_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let n = wid.y;
  let q0 = wid.x * WG * TQ + lid.x;
  if (q0 >= p.L) { return; }
  let dp = p.d + 1u;
  let qb = n * dp * p.L;
  let kb = partner(n) * dp * p.L;
  let cv = consts[2u * p.d];
  var qi: array<u32, TQ>;
  for (var r = 0u; r < TQ; r++) { qi[r] = min(q0 + r * WG, p.L - 1u); }
  var m: array<f32, TQ>;
  var l: array<f32, TQ>;
  var acc: array<f32, TQ>;
  for (var r = 0u; r < TQ; r++) { m[r] = NEG; }
  for (var j0 = 0u; j0 < p.L; j0 += TK) {
    var kj: array<u32, TK>;
    var vt: array<f32, TK>;
    for (var t = 0u; t < TK; t++) {
      kj[t] = min(j0 + t, p.L - 1u);
      vt[t] = proj[kb + p.d * p.L + kj[t]] + cv;
    }
    let sc = block_scores(qb, kb, qi, kj);
    for (var r = 0u; r < TQ; r++) {
      var mx = m[r];
      for (var t = 0u; t < TK; t++) {
        if (j0 + t < p.L) { mx = max(mx, sc[r][t] * p.scale); }
      }
      let corr = exp(m[r] - mx);
      var lr = l[r] * corr;
      var ar = acc[r] * corr;
      for (var t = 0u; t < TK; t++) {
        let e = select(0.0, exp(sc[r][t] * p.scale - mx), j0 + t < p.L);
        lr += e;
        ar = fma(e, vt[t], ar);
      }
      m[r] = mx;
      l[r] = lr;
      acc[r] = ar;
    }
  }
  for (var r = 0u; r < TQ; r++) {
    let i = q0 + r * WG;
    if (i < p.L) {
      out[n * p.L + i] = acc[r] / l[r];
      out2[n * p.L + i] = m[r] + log(l[r]);
    }
  }
}

// Zeroes the d channels of `out` (at `ob`, [d, L]) at this thread's positions
// col[r] that exist: the backward kernels accumulate into them.
fn zero_channels(ob: u32, col: array<u32, TQ>, ok: array<bool, TQ>) {
  for (var k = 0u; k < p.d; k++) {
    for (var r = 0u; r < TQ; r++) { if (ok[r]) { out[ob + k * p.L + col[r]] = 0.0; } }
  }
}

// out = dQ [N, d, L]. Grid (⌈L/(WG·TQ)⌉, N).
@compute @workgroup_size(WG)
fn mb_attn_bwd_q(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let n = wid.y;
  let q0 = wid.x * WG * TQ + lid.x;
  if (q0 >= p.L) { return; }
  let dp = p.d + 1u;
  let qb = n * dp * p.L;
  let kb = partner(n) * dp * p.L;
  let ob = n * p.d * p.L;
  let cv = consts[2u * p.d];
  var qi: array<u32, TQ>;
  var ok: array<bool, TQ>;
  var dsr: array<f32, TQ>;
  var sr: array<f32, TQ>;
  var lr: array<f32, TQ>;
  for (var r = 0u; r < TQ; r++) {
    ok[r] = q0 + r * WG < p.L;
    qi[r] = min(q0 + r * WG, p.L - 1u);
    dsr[r] = ds[n * p.L + qi[r]];
    sr[r] = s_fwd[n * p.L + qi[r]];
    lr[r] = lse[n * p.L + qi[r]];
  }
  zero_channels(ob, qi, ok);
  for (var j0 = 0u; j0 < p.L; j0 += TK) {
    var kj: array<u32, TK>;
    var vt: array<f32, TK>;
    for (var t = 0u; t < TK; t++) {
      kj[t] = min(j0 + t, p.L - 1u);
      vt[t] = proj[kb + p.d * p.L + kj[t]] + cv;
    }
    let sc = block_scores(qb, kb, qi, kj);
    var du: array<array<f32, TK>, TQ>;
    for (var r = 0u; r < TQ; r++) {
      for (var t = 0u; t < TK; t++) {
        let a = select(0.0, exp(sc[r][t] * p.scale - lr[r]), j0 + t < p.L);
        du[r][t] = p.scale * a * dsr[r] * (vt[t] - sr[r]);
      }
    }
    for (var k = 0u; k < p.d; k++) {
      let row = k * p.L;
      let ckk = consts[p.d + k];
      var kv: array<f32, TK>;
      for (var t = 0u; t < TK; t++) { kv[t] = proj[kb + row + kj[t]] + ckk; }
      for (var r = 0u; r < TQ; r++) {
        if (ok[r]) {
          var g = out[ob + row + qi[r]];
          for (var t = 0u; t < TK; t++) { g = fma(du[r][t], kv[t], g); }
          out[ob + row + qi[r]] = g;
        }
      }
    }
  }
}

// out = dK [N, d, L], out2 = dv [N, L] (indexed by the attention's batch n;
// the keys are those of π[n]). Threads own keys j = tile·WG·TQ + r·WG + lid
// and walk the queries in blocks of TK. Grid (⌈L/(WG·TQ)⌉, N).
@compute @workgroup_size(WG)
fn mb_attn_bwd_k(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let n = wid.y;
  let j0 = wid.x * WG * TQ + lid.x;
  if (j0 >= p.L) { return; }
  let dp = p.d + 1u;
  let qb = n * dp * p.L;
  let kb = partner(n) * dp * p.L;
  let ob = n * p.d * p.L;
  let cv = consts[2u * p.d];
  var kj: array<u32, TQ>;
  var ok: array<bool, TQ>;
  var vr: array<f32, TQ>;
  var dv: array<f32, TQ>;
  for (var r = 0u; r < TQ; r++) {
    ok[r] = j0 + r * WG < p.L;
    kj[r] = min(j0 + r * WG, p.L - 1u);
    vr[r] = proj[kb + p.d * p.L + kj[r]] + cv;
  }
  zero_channels(ob, kj, ok);
  for (var i0 = 0u; i0 < p.L; i0 += TK) {
    var it: array<u32, TK>;
    var dst: array<f32, TK>;
    var st: array<f32, TK>;
    var lt: array<f32, TK>;
    for (var t = 0u; t < TK; t++) {
      it[t] = min(i0 + t, p.L - 1u);
      dst[t] = select(0.0, ds[n * p.L + it[t]], i0 + t < p.L);
      st[t] = s_fwd[n * p.L + it[t]];
      lt[t] = lse[n * p.L + it[t]];
    }
    // Scores with the roles swapped: rows are this thread's keys, columns the
    // block's queries. Zeroed explicitly: a `var` declared in a loop body
    // without an initializer was not re-zeroed per iteration on Dawn/lavapipe.
    var sc = array<array<f32, TK>, TQ>();
    for (var k = 0u; k < p.d; k++) {
      let row = k * p.L;
      let cqk = consts[k];
      let ckk = consts[p.d + k];
      var qv: array<f32, TK>;
      for (var t = 0u; t < TK; t++) { qv[t] = proj[qb + row + it[t]] + cqk; }
      for (var r = 0u; r < TQ; r++) {
        let kv = proj[kb + row + kj[r]] + ckk;
        for (var t = 0u; t < TK; t++) { sc[r][t] = fma(kv, qv[t], sc[r][t]); }
      }
    }
    var du: array<array<f32, TK>, TQ>;
    for (var r = 0u; r < TQ; r++) {
      for (var t = 0u; t < TK; t++) {
        // dst is 0 past the end, which zeroes both dv and dU there.
        let a = exp(sc[r][t] * p.scale - lt[t]);
        dv[r] = fma(a, dst[t], dv[r]);
        du[r][t] = p.scale * a * dst[t] * (vr[r] - st[t]);
      }
    }
    for (var k = 0u; k < p.d; k++) {
      let row = k * p.L;
      let cqk = consts[k];
      var qv: array<f32, TK>;
      for (var t = 0u; t < TK; t++) { qv[t] = proj[qb + row + it[t]] + cqk; }
      for (var r = 0u; r < TQ; r++) {
        if (ok[r]) {
          var g = out[ob + row + kj[r]];
          for (var t = 0u; t < TK; t++) { g = fma(du[r][t], qv[t], g); }
          out[ob + row + kj[r]] = g;
        }
      }
    }
  }
  for (var r = 0u; r < TQ; r++) {
    if (ok[r]) { out2[n * p.L + kj[r]] = dv[r]; }
  }
}

// ---- unfused path --------------------------------------------------------

@group(0) @binding(13) var<storage, read_write> out3: array<f32>;
@group(0) @binding(14) var<storage, read> gq: array<f32>;
@group(0) @binding(15) var<storage, read> gk: array<f32>;
@group(0) @binding(16) var<storage, read> gv: array<f32>;

// out = Q [N, d, L], out2 = K [N, d, L], out3 = v [N, L]. total = N·(d+1)·L.
@compute @workgroup_size(WG)
fn mb_build_qkv(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let t = linear(wid, nwg, lid);
  if (t >= p.total) { return; }
  let dp = p.d + 1u;
  let n = t / (dp * p.L);
  let k = (t / p.L) % dp;
  let j = t % p.L;
  let kb = partner(n) * dp * p.L;
  if (k < p.d) {
    out[(n * p.d + k) * p.L + j] = proj[t] + consts[k];
    out2[(n * p.d + k) * p.L + j] = proj[kb + k * p.L + j] + consts[p.d + k];
  } else {
    out3[n * p.L + j] = proj[kb + k * p.L + j] + consts[2u * p.d];
  }
}

// out = dU [N, L, L] = scale·A ⊙ ds_i·(v_j − s_i); proj holds A, gv the
// materialised v [N, L]. total = N·L·L.
@compute @workgroup_size(WG)
fn mb_dscores(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let t = linear(wid, nwg, lid);
  if (t >= p.total) { return; }
  let n = t / (p.L * p.L);
  let i = (t / p.L) % p.L;
  let j = t % p.L;
  let q = n * p.L + i;
  out[t] = p.scale * proj[t] * ds[q] * (gv[n * p.L + j] - s_fwd[q]);
}

// ---- parameter gradients -------------------------------------------------

// out = dP [N, d+1, L], the gradient of the projection P, and out2 = rows
// [N, 2d+1], its row sums: rows[n, r] = Σ_pos dP[n, r, pos] (r ≤ d) and
// rows[n, d+1+r] = Σ_pos dQ[n, r, pos] (r < d; the query side alone, for the
// λ column). The attention's gradients may come in parts (the GPU-tiled
// backward writes one per query or key block, see
// mix_block_attention_tiled.wgsl), summed here:
//   gq = dQ [nq_parts, N, d, L], gk = dK [nk_parts, N, d, L], gv = dv [nk_parts, N, L];
//   with kv_packed, gk = dK and dv [nk_parts, N, d+1, L] (dv the channel d) and gv is not read.
// Sample n gets its own queries' dQ and the dK, dv of every attention m whose
// partner it is (π[m] = n), m in increasing order: a deterministic gather, no
// float atomics. One thread per row (n, r), r ≤ d: it walks the L positions
// serially (L is at most a few hundred), so the row sums need no second pass.
@compute @workgroup_size(WG)
fn mb_combine(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let t = linear(wid, nwg, lid);
  let dp = p.d + 1u;
  if (t >= p.N * dp) { return; }
  let n = t / dp;
  let r = t % dp;
  let ob = t * p.L;
  let qstride = p.N * p.d * p.L;
  let vstride = p.N * p.L;
  let kc = select(p.d, dp, p.kv_packed != 0u); // channels of a dK part
  let kstride = p.N * kc * p.L;
  var rsum = 0.0;
  var qsum = 0.0;
  for (var j = 0u; j < p.L; j++) {
    var a = 0.0;
    if (r < p.d) {
      for (var u = 0u; u < p.nq_parts; u++) { a += gq[u * qstride + (n * p.d + r) * p.L + j]; }
    }
    out[ob + j] = a;
    qsum += a;
  }
  rsum = qsum;
  for (var m = 0u; m < p.N; m++) {
    if (partner(m) != n) { continue; }
    for (var j = 0u; j < p.L; j++) {
      var a = 0.0;
      if (r < p.d || p.kv_packed != 0u) {
        for (var u = 0u; u < p.nk_parts; u++) { a += gk[u * kstride + (m * kc + r) * p.L + j]; }
      } else {
        for (var u = 0u; u < p.nk_parts; u++) { a += gv[u * vstride + m * p.L + j]; }
      }
      out[ob + j] += a;
      rsum += a;
    }
  }
  let rb = n * (2u * p.d + 1u);
  out2[rb + r] = rsum;
  if (r < p.d) { out2[rb + dp + r] = qsum; }
}

// Writes out = dW_q [d, C'], out2 = db_q [d], out3 = [dw_v (C'), db_v] from
//   proj = dWn [N, d+1, C]   (dP[n]·z[n]ᵀ per sample: summed over n here),
//   gq   = rows [N, 2d+1]    (mb_combine's row sums: all of dP, then dQ alone).
// Threads over (d+1)·(C'+1): column C' is the bias, column C (with the λ
// channel) the λ weight, which sees λ on the query side and 1−λ on the key side.
// Each sums N values; N is a batch size.
@compute @workgroup_size(WG)
fn mb_unpack(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let t = linear(wid, nwg, lid);
  if (t >= p.total) { return; }
  let r = t / (p.Cp + 1u);
  let c = t % (p.Cp + 1u);
  let dp = p.d + 1u;
  let rw = 2u * p.d + 1u;
  var val = 0.0;
  if (c < p.C) {
    for (var n = 0u; n < p.N; n++) { val += proj[(n * dp + r) * p.C + c]; }
  } else {
    var tot = 0.0;
    var sq = 0.0;
    for (var n = 0u; n < p.N; n++) {
      tot += gq[n * rw + r];
      if (r < p.d) { sq += gq[n * rw + dp + r]; }
    }
    if (c == p.Cp) {
      val = tot;
    } else {
      val = p.lam * sq + (1.0 - p.lam) * (tot - sq);
    }
  }
  if (r < p.d) {
    if (c < p.Cp) { out[r * p.Cp + c] = val; } else { out2[r] = val; }
  } else {
    out3[c] = val;
  }
}
