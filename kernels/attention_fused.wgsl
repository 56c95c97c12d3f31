// Multi-head attention on the token-major layout (src/ops/attention.ts,
// attentionTokens; forms and plans in src/ops/attention-plan.ts):
//
//   out[n, i, h, :] = Σ_j softmax_j(scale · q[n, i, h, :]·k[n, j, h, :]) · v[n, j, h, :]
//
// Layout: q [N, Lq, H, DH], k [N, Lk, H, DH], v [N, Lk, H, DV], out [N, Lq, H, DV]:
// what a Linear produces and consumes ([N, L, D] with D = H·d, a reshape, no
// copy), so no head permute is needed. A head's rows are H·d apart.
// lse and delta are [N, H, Lq].
//
// Fused, for CPU adapters (attn_fwd, attn_bwd_q, attn_bwd_kv): a thread owns
// one query (or key) row; the [Lq, Lk] score matrix is never stored and no
// workgroup memory is used (llvmpipe runs barriers as coroutine switches).
// Every thread of a workgroup has the same (n, h), so the rows it walks
// (k_j, v_j forward; q_i, dO_i for attn_bwd_kv) are loaded at addresses
// uniform across the workgroup (broadcasts). Its own row and accumulators
// live in private arrays of vec4 (up to DMAX4), the loops running to the
// uniforms dh4, dv4: one pipeline for every shape (with the widths as override
// constants llvmpipe takes seconds to build each shape's pipelines, and runs
// them no faster). On llvmpipe these kernels lose to the unfused form
// (docs/kernels/attention.md); they are the tuner's candidates there.
//   attn_fwd:    keys in blocks of TK with an online softmax (running max m,
//                sum l); writes out and lse = m + log l.
//   attn_bwd_q:  delta_i = dO_i·o_i (written for attn_bwd_kv), then over the keys
//                P_ij = exp(scale·q_i·k_j − lse_i), dS_ij = P_ij (dO_i·v_j − delta_i),
//                dq_i = scale Σ_j dS_ij k_j.
//   attn_bwd_kv: over the queries, dv_j = Σ_i P_ij dO_i, dk_j = scale Σ_i dS_ij q_i.
// The backward recomputes the scores (FlashAttention-style); each output row
// has one owner, so there are no atomics. Three dispatches per training step
// (one forward, two backward) instead of the unfused form's sixteen.
//
// Fused with workgroup-memory tiles, for GPUs (attn_fwd_tiled,
// attn_bwd_q_tiled, attn_bwd_kv_tiled): the same arithmetic; a workgroup of
// WG threads (WG rows of one (n, h)) stages the rows it walks in tiles of BK
// rows in workgroup memory (2·BK·⌈max(DH, DV)/4⌉ vec4 + 2·BK f32), loaded
// cooperatively; DH, DV are override constants here, so on a GPU the
// register arrays have constant indices once the loops are unrolled.
//
// Head split and merge, for the unfused form (heads_copy1, heads_copy3 and
// their _v4 twins; override MERGE: false splits, true merges): copies between
// the token-major layout and the head-major [N, H, L, d] the batched matmuls
// and attention.wgsl's softmax read; one or three tensors per dispatch (q, k,
// v; dq, dk, dv). Slot z has length L<z> and width D<z>; the _v4 entries move
// vec4s (every width a multiple of 4).
//
// Grids: fused kernels (⌈rows / WG⌉, N·H); split and merge
// (⌈max L<z>·D<z> / WG⌉, N·H), a workgroup's elements in one (n, h).

override WG: u32 = 64;
// The tiled kernels: head sizes of q, k (DH) and v, out (DV), at most 4·DMAX4,
// and rows per workgroup-memory tile (BK).
override DH: u32 = 64;
override DV: u32 = 64;
override BK: u32 = 16;
override DH4: u32 = (DH + 3u) / 4u;
override DV4: u32 = (DV + 3u) / 4u;
override DW4: u32 = max(DH4, DV4);
const DMAX4: u32 = 32u;
// The largest BK.
const BKMAX: u32 = 32u;
const TK: u32 = 4u;
const NEG: f32 = -3.0e38;

struct Params {
  N: u32,
  H: u32,
  Lq: u32,
  Lk: u32,
  scale: f32,
  // head sizes (the CPU kernels; the tiled ones take DH, DV) and their vec4 counts
  dh: u32,
  dv: u32,
  dh4: u32,
  dv4: u32,
  // split / merge: elements of the largest tensor, and each slot's length and width
  total: u32,
  L0: u32,
  L1: u32,
  L2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
// dO, the output's gradient
@group(0) @binding(4) var<storage, read> g: array<f32>;
// the forward's output (attn_bwd_q), lse and delta (attn_bwd_kv)
@group(0) @binding(5) var<storage, read> o: array<f32>;
@group(0) @binding(6) var<storage, read> lse: array<f32>;
@group(0) @binding(7) var<storage, read> delta: array<f32>;
@group(0) @binding(8) var<storage, read_write> out: array<f32>;
@group(0) @binding(9) var<storage, read_write> out2: array<f32>;



// Four channels c4·4.. of a row at `b` (channels past the width read as 0).
fn ld4q(b: u32, c4: u32, w: u32) -> vec4f {
  let c = 4u * c4;
  if (w % 4u == 0u) { return vec4f(q[b + c], q[b + c + 1u], q[b + c + 2u], q[b + c + 3u]); }
  return vec4f(q[b + c], select(0.0, q[b + c + 1u], c + 1u < w), select(0.0, q[b + c + 2u], c + 2u < w), select(0.0, q[b + c + 3u], c + 3u < w));
}
fn ld4k(b: u32, c4: u32, w: u32) -> vec4f {
  let c = 4u * c4;
  if (w % 4u == 0u) { return vec4f(k[b + c], k[b + c + 1u], k[b + c + 2u], k[b + c + 3u]); }
  return vec4f(k[b + c], select(0.0, k[b + c + 1u], c + 1u < w), select(0.0, k[b + c + 2u], c + 2u < w), select(0.0, k[b + c + 3u], c + 3u < w));
}
fn ld4v(b: u32, c4: u32, w: u32) -> vec4f {
  let c = 4u * c4;
  if (w % 4u == 0u) { return vec4f(v[b + c], v[b + c + 1u], v[b + c + 2u], v[b + c + 3u]); }
  return vec4f(v[b + c], select(0.0, v[b + c + 1u], c + 1u < w), select(0.0, v[b + c + 2u], c + 2u < w), select(0.0, v[b + c + 3u], c + 3u < w));
}
fn ld4g(b: u32, c4: u32, w: u32) -> vec4f {
  let c = 4u * c4;
  if (w % 4u == 0u) { return vec4f(g[b + c], g[b + c + 1u], g[b + c + 2u], g[b + c + 3u]); }
  return vec4f(g[b + c], select(0.0, g[b + c + 1u], c + 1u < w), select(0.0, g[b + c + 2u], c + 2u < w), select(0.0, g[b + c + 3u], c + 3u < w));
}
fn ld4o(b: u32, c4: u32, w: u32) -> vec4f {
  let c = 4u * c4;
  if (w % 4u == 0u) { return vec4f(o[b + c], o[b + c + 1u], o[b + c + 2u], o[b + c + 3u]); }
  return vec4f(o[b + c], select(0.0, o[b + c + 1u], c + 1u < w), select(0.0, o[b + c + 2u], c + 2u < w), select(0.0, o[b + c + 3u], c + 3u < w));
}
fn st4(b: u32, c4: u32, w: u32, x: vec4f) {
  let c = 4u * c4;
  out[b + c] = x.x;
  if (c + 1u < w) { out[b + c + 1u] = x.y; }
  if (c + 2u < w) { out[b + c + 2u] = x.z; }
  if (c + 3u < w) { out[b + c + 3u] = x.w; }
}
fn st4b(b: u32, c4: u32, w: u32, x: vec4f) {
  let c = 4u * c4;
  out2[b + c] = x.x;
  if (c + 1u < w) { out2[b + c + 1u] = x.y; }
  if (c + 2u < w) { out2[b + c + 2u] = x.z; }
  if (c + 3u < w) { out2[b + c + 3u] = x.w; }
}
fn hsum(x: vec4f) -> f32 {
  return (x.x + x.y) + (x.z + x.w);
}

// Row r of (n, h) in a token-major tensor of length L and width d.
fn row(n: u32, r: u32, h: u32, L: u32, d: u32) -> u32 {
  return ((n * L + r) * p.H + h) * d;
}

// ---- fused, CPU adapters ---------------------------------------------------

// out = o [N, Lq, H, DV], out2 = lse [N, H, Lq]. Grid (⌈Lq / WG⌉, N·H).
@compute @workgroup_size(WG)
fn attn_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let nh = wid.y;
  let n = nh / p.H;
  let h = nh % p.H;
  let i = wid.x * WG + lid.x;
  if (i >= p.Lq) { return; }
  var qr: array<vec4f, DMAX4>;
  var acc: array<vec4f, DMAX4>;
  let qb = row(n, i, h, p.Lq, p.dh);
  for (var c = 0u; c < p.dh4; c++) { qr[c] = ld4q(qb, c, p.dh); }
  var m = NEG;
  var l = 0.0;
  for (var j0 = 0u; j0 < p.Lk; j0 += TK) {
    var s: array<f32, TK>;
    var mx = m;
    for (var t = 0u; t < TK; t++) {
      let kb = row(n, min(j0 + t, p.Lk - 1u), h, p.Lk, p.dh);
      var d = vec4f(0.0);
      for (var c = 0u; c < p.dh4; c++) { d = fma(qr[c], ld4k(kb, c, p.dh), d); }
      s[t] = select(NEG, hsum(d) * p.scale, j0 + t < p.Lk);
      mx = max(mx, s[t]);
    }
    let corr = exp(m - mx);
    l *= corr;
    var e: array<f32, TK>;
    for (var t = 0u; t < TK; t++) {
      e[t] = exp(s[t] - mx);
      l += e[t];
    }
    var vb: array<u32, TK>;
    for (var t = 0u; t < TK; t++) { vb[t] = row(n, min(j0 + t, p.Lk - 1u), h, p.Lk, p.dv); }
    for (var c = 0u; c < p.dv4; c++) {
      var a = acc[c] * corr;
      for (var t = 0u; t < TK; t++) { a = fma(vec4f(e[t]), ld4v(vb[t], c, p.dv), a); }
      acc[c] = a;
    }
    m = mx;
  }
  let inv = 1.0 / l;
  let ob = row(n, i, h, p.Lq, p.dv);
  for (var c = 0u; c < p.dv4; c++) { st4(ob, c, p.dv, acc[c] * inv); }
  out2[nh * p.Lq + i] = m + log(l);
}

// out = dq [N, Lq, H, DH], out2 = delta [N, H, Lq]. Grid (⌈Lq / WG⌉, N·H).
@compute @workgroup_size(WG)
fn attn_bwd_q(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let nh = wid.y;
  let n = nh / p.H;
  let h = nh % p.H;
  let i = wid.x * WG + lid.x;
  if (i >= p.Lq) { return; }
  var qr: array<vec4f, DMAX4>;
  var gr: array<vec4f, DMAX4>;
  var dq: array<vec4f, DMAX4>;
  let qb = row(n, i, h, p.Lq, p.dh);
  let gb = row(n, i, h, p.Lq, p.dv);
  for (var c = 0u; c < p.dh4; c++) { qr[c] = ld4q(qb, c, p.dh); }
  var dd = vec4f(0.0);
  for (var c = 0u; c < p.dv4; c++) {
    gr[c] = ld4g(gb, c, p.dv);
    dd = fma(gr[c], ld4o(gb, c, p.dv), dd);
  }
  let di = hsum(dd);
  out2[nh * p.Lq + i] = di;
  let li = lse[nh * p.Lq + i];
  for (var j = 0u; j < p.Lk; j++) {
    let kb = row(n, j, h, p.Lk, p.dh);
    let vb = row(n, j, h, p.Lk, p.dv);
    var s = vec4f(0.0);
    for (var c = 0u; c < p.dh4; c++) { s = fma(qr[c], ld4k(kb, c, p.dh), s); }
    var dp = vec4f(0.0);
    for (var c = 0u; c < p.dv4; c++) { dp = fma(gr[c], ld4v(vb, c, p.dv), dp); }
    let pr = exp(hsum(s) * p.scale - li);
    let ds = vec4f(pr * (hsum(dp) - di));
    for (var c = 0u; c < p.dh4; c++) { dq[c] = fma(ds, ld4k(kb, c, p.dh), dq[c]); }
  }
  for (var c = 0u; c < p.dh4; c++) { st4(qb, c, p.dh, dq[c] * p.scale); }
}

// out = dk [N, Lk, H, DH], out2 = dv [N, Lk, H, DV]. Grid (⌈Lk / WG⌉, N·H).
@compute @workgroup_size(WG)
fn attn_bwd_kv(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let nh = wid.y;
  let n = nh / p.H;
  let h = nh % p.H;
  let j = wid.x * WG + lid.x;
  if (j >= p.Lk) { return; }
  var kr: array<vec4f, DMAX4>;
  var vr: array<vec4f, DMAX4>;
  var dk: array<vec4f, DMAX4>;
  var dv: array<vec4f, DMAX4>;
  let kb = row(n, j, h, p.Lk, p.dh);
  let vb = row(n, j, h, p.Lk, p.dv);
  for (var c = 0u; c < p.dh4; c++) { kr[c] = ld4k(kb, c, p.dh); }
  for (var c = 0u; c < p.dv4; c++) { vr[c] = ld4v(vb, c, p.dv); }
  for (var i = 0u; i < p.Lq; i++) {
    let qb = row(n, i, h, p.Lq, p.dh);
    let gb = row(n, i, h, p.Lq, p.dv);
    var s = vec4f(0.0);
    for (var c = 0u; c < p.dh4; c++) { s = fma(ld4q(qb, c, p.dh), kr[c], s); }
    var dp = vec4f(0.0);
    for (var c = 0u; c < p.dv4; c++) { dp = fma(ld4g(gb, c, p.dv), vr[c], dp); }
    let pr = exp(hsum(s) * p.scale - lse[nh * p.Lq + i]);
    let ds = vec4f(pr * (hsum(dp) - delta[nh * p.Lq + i]));
    let pv = vec4f(pr);
    for (var c = 0u; c < p.dv4; c++) { dv[c] = fma(pv, ld4g(gb, c, p.dv), dv[c]); }
    for (var c = 0u; c < p.dh4; c++) { dk[c] = fma(ds, ld4q(qb, c, p.dh), dk[c]); }
  }
  for (var c = 0u; c < p.dh4; c++) { st4(kb, c, p.dh, dk[c] * p.scale); }
  for (var c = 0u; c < p.dv4; c++) { st4b(vb, c, p.dv, dv[c]); }
}


// ---- fused with workgroup-memory tiles, GPUs --------------------------------

// Two tiles of BK rows (k and v; or q and dO), DW4 vec4 each, and the walked rows' lse and delta.
var<workgroup> ta: array<vec4f, BK * DW4>;
var<workgroup> tb: array<vec4f, BK * DW4>;
var<workgroup> tl: array<f32, BK>;
var<workgroup> td: array<f32, BK>;

// Stages rows r0 .. r0+BK−1 of (n, h) (zero past L): k → ta and v → tb.
fn stage_kv(n: u32, h: u32, r0: u32, L: u32, lid: u32) {
  for (var e = lid; e < BK * DW4; e += WG) {
    let t = e / DW4;
    let c = e % DW4;
    let r = r0 + t;
    let ok = r < L;
    let rc = min(r, L - 1u);
    ta[e] = select(vec4f(0.0), ld4k(row(n, rc, h, L, DH), min(c, DH4 - 1u), DH), ok && c < DH4);
    tb[e] = select(vec4f(0.0), ld4v(row(n, rc, h, L, DV), min(c, DV4 - 1u), DV), ok && c < DV4);
  }
}

// The same for q → ta and dO → tb, with lse → tl and delta → td.
fn stage_qg(n: u32, h: u32, r0: u32, L: u32, lid: u32) {
  for (var e = lid; e < BK * DW4; e += WG) {
    let t = e / DW4;
    let c = e % DW4;
    let r = r0 + t;
    let ok = r < L;
    let rc = min(r, L - 1u);
    ta[e] = select(vec4f(0.0), ld4q(row(n, rc, h, L, DH), min(c, DH4 - 1u), DH), ok && c < DH4);
    tb[e] = select(vec4f(0.0), ld4g(row(n, rc, h, L, DV), min(c, DV4 - 1u), DV), ok && c < DV4);
  }
  let nh = n * p.H + h;
  for (var t = lid; t < BK; t += WG) {
    let r = min(r0 + t, L - 1u);
    tl[t] = lse[nh * L + r];
    td[t] = delta[nh * L + r];
  }
}

// As attn_fwd. Grid (⌈Lq / WG⌉, N·H).
@compute @workgroup_size(WG)
fn attn_fwd_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let nh = wid.y;
  let n = nh / p.H;
  let h = nh % p.H;
  let i = wid.x * WG + lid.x;
  let live = i < p.Lq;
  let ic = min(i, p.Lq - 1u);
  var qr: array<vec4f, DMAX4>;
  var acc: array<vec4f, DMAX4>;
  let qb = row(n, ic, h, p.Lq, DH);
  for (var c = 0u; c < DH4; c++) { qr[c] = ld4q(qb, c, DH); }
  var m = NEG;
  var l = 0.0;
  for (var j0 = 0u; j0 < p.Lk; j0 += BK) {
    workgroupBarrier();
    stage_kv(n, h, j0, p.Lk, lid.x);
    workgroupBarrier();
    // Loops to BK (a constant): padded rows are zero, their scores masked here.
    var sc: array<f32, BKMAX>;
    var mx = m;
    for (var t = 0u; t < BK; t++) {
      var d = vec4f(0.0);
      for (var c = 0u; c < DH4; c++) { d = fma(qr[c], ta[t * DW4 + c], d); }
      sc[t] = select(NEG, hsum(d) * p.scale, j0 + t < p.Lk);
      mx = max(mx, sc[t]);
    }
    let corr = exp(m - mx);
    l *= corr;
    for (var c = 0u; c < DV4; c++) { acc[c] *= corr; }
    for (var t = 0u; t < BK; t++) {
      let e = exp(sc[t] - mx);
      l += e;
      for (var c = 0u; c < DV4; c++) { acc[c] = fma(vec4f(e), tb[t * DW4 + c], acc[c]); }
    }
    m = mx;
  }
  if (live) {
    let inv = 1.0 / l;
    let ob = row(n, i, h, p.Lq, DV);
    for (var c = 0u; c < DV4; c++) { st4(ob, c, DV, acc[c] * inv); }
    out2[nh * p.Lq + i] = m + log(l);
  }
}

// As attn_bwd_q. Grid (⌈Lq / WG⌉, N·H).
@compute @workgroup_size(WG)
fn attn_bwd_q_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let nh = wid.y;
  let n = nh / p.H;
  let h = nh % p.H;
  let i = wid.x * WG + lid.x;
  let live = i < p.Lq;
  let ic = min(i, p.Lq - 1u);
  var qr: array<vec4f, DMAX4>;
  var gr: array<vec4f, DMAX4>;
  var dq: array<vec4f, DMAX4>;
  let qb = row(n, ic, h, p.Lq, DH);
  let gb = row(n, ic, h, p.Lq, DV);
  for (var c = 0u; c < DH4; c++) { qr[c] = ld4q(qb, c, DH); }
  var dd = vec4f(0.0);
  for (var c = 0u; c < DV4; c++) {
    gr[c] = ld4g(gb, c, DV);
    dd = fma(gr[c], ld4o(gb, c, DV), dd);
  }
  let di = hsum(dd);
  if (live) { out2[nh * p.Lq + i] = di; }
  let li = lse[nh * p.Lq + ic];
  for (var j0 = 0u; j0 < p.Lk; j0 += BK) {
    workgroupBarrier();
    stage_kv(n, h, j0, p.Lk, lid.x);
    workgroupBarrier();
    // Padded rows are zero: they add nothing to dq.
    for (var t = 0u; t < BK; t++) {
      var s = vec4f(0.0);
      for (var c = 0u; c < DH4; c++) { s = fma(qr[c], ta[t * DW4 + c], s); }
      var dp = vec4f(0.0);
      for (var c = 0u; c < DV4; c++) { dp = fma(gr[c], tb[t * DW4 + c], dp); }
      let ds = vec4f(exp(hsum(s) * p.scale - li) * (hsum(dp) - di));
      for (var c = 0u; c < DH4; c++) { dq[c] = fma(ds, ta[t * DW4 + c], dq[c]); }
    }
  }
  if (live) {
    for (var c = 0u; c < DH4; c++) { st4(qb, c, DH, dq[c] * p.scale); }
  }
}

// As attn_bwd_kv. Grid (⌈Lk / WG⌉, N·H).
@compute @workgroup_size(WG)
fn attn_bwd_kv_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let nh = wid.y;
  let n = nh / p.H;
  let h = nh % p.H;
  let j = wid.x * WG + lid.x;
  let live = j < p.Lk;
  let jc = min(j, p.Lk - 1u);
  var kr: array<vec4f, DMAX4>;
  var vr: array<vec4f, DMAX4>;
  var dk: array<vec4f, DMAX4>;
  var dv: array<vec4f, DMAX4>;
  let kb = row(n, jc, h, p.Lk, DH);
  let vb = row(n, jc, h, p.Lk, DV);
  for (var c = 0u; c < DH4; c++) { kr[c] = ld4k(kb, c, DH); }
  for (var c = 0u; c < DV4; c++) { vr[c] = ld4v(vb, c, DV); }
  for (var i0 = 0u; i0 < p.Lq; i0 += BK) {
    workgroupBarrier();
    stage_qg(n, h, i0, p.Lq, lid.x);
    workgroupBarrier();
    // Padded rows are zero: they add nothing to dk, dv.
    for (var t = 0u; t < BK; t++) {
      var s = vec4f(0.0);
      for (var c = 0u; c < DH4; c++) { s = fma(ta[t * DW4 + c], kr[c], s); }
      var dp = vec4f(0.0);
      for (var c = 0u; c < DV4; c++) { dp = fma(tb[t * DW4 + c], vr[c], dp); }
      let pr = exp(hsum(s) * p.scale - tl[t]);
      let ds = vec4f(pr * (hsum(dp) - td[t]));
      let pv = vec4f(pr);
      for (var c = 0u; c < DV4; c++) { dv[c] = fma(pv, tb[t * DW4 + c], dv[c]); }
      for (var c = 0u; c < DH4; c++) { dk[c] = fma(ds, ta[t * DW4 + c], dk[c]); }
    }
  }
  if (live) {
    for (var c = 0u; c < DH4; c++) { st4(kb, c, DH, dk[c] * p.scale); }
    for (var c = 0u; c < DV4; c++) { st4b(vb, c, DV, dv[c]); }
  }
}

// ---- head split / merge (the unfused form) --------------------------------

@group(0) @binding(10) var<storage, read> x0: array<f32>;
@group(0) @binding(11) var<storage, read> x1: array<f32>;
@group(0) @binding(12) var<storage, read> x2: array<f32>;
@group(0) @binding(13) var<storage, read_write> y0: array<f32>;
@group(0) @binding(14) var<storage, read_write> y1: array<f32>;
@group(0) @binding(15) var<storage, read_write> y2: array<f32>;
@group(0) @binding(16) var<storage, read> xv0: array<vec4f>;
@group(0) @binding(17) var<storage, read> xv1: array<vec4f>;
@group(0) @binding(18) var<storage, read> xv2: array<vec4f>;
@group(0) @binding(19) var<storage, read_write> yv0: array<vec4f>;
@group(0) @binding(20) var<storage, read_write> yv1: array<vec4f>;
@group(0) @binding(21) var<storage, read_write> yv2: array<vec4f>;

// Split / merge: each slot's width, in the entry's units (constants, so the divisions are by constants).
override D0: u32 = 16;
override D1: u32 = 16;
override D2: u32 = 16;
// false: split (token-major → head-major), true: merge (head-major → token-major).
override MERGE: bool = false;

// Element e of row-block nh of a tensor of length L and width d (in the
// entry's units, f32 or vec4): its token-major index (.x) and head-major one (.y),
// or none (.z = 0) past the tensor.
fn place(nh: u32, e: u32, L: u32, d: u32) -> vec3u {
  let l = e / d;
  let c = e - l * d;
  return vec3u(((nh / p.H * L + l) * p.H + nh % p.H) * d + c, (nh * L + l) * d + c, u32(e < L * d));
}

// Source (.x) and destination (.y) index of a place, by direction; .z as in place.
fn route(nh: u32, e: u32, L: u32, d: u32) -> vec3u {
  let a = place(nh, e, L, d);
  if (MERGE) { return vec3u(a.y, a.x, a.z); }
  return a;
}

// Split: y<z> [N, H, L<z>, D<z>] ← x<z> [N, L<z>, H, D<z>]; merge: the other way; z = 0, 1, 2.
// Grid (⌈max L<z>·D<z> / WG⌉, N·H).
@compute @workgroup_size(WG)
fn heads_copy3(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = wid.x * WG + lid.x;
  let a = route(wid.y, e, p.L0, D0);
  let b = route(wid.y, e, p.L1, D1);
  let c = route(wid.y, e, p.L2, D2);
  if (a.z != 0u) { y0[a.y] = x0[a.x]; }
  if (b.z != 0u) { y1[b.y] = x1[b.x]; }
  if (c.z != 0u) { y2[c.y] = x2[c.x]; }
}

// One tensor (slot 0).
@compute @workgroup_size(WG)
fn heads_copy1(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let a = route(wid.y, wid.x * WG + lid.x, p.L0, D0);
  if (a.z != 0u) { y0[a.y] = x0[a.x]; }
}

// The same on vec4 units (every width a multiple of 4; D<z> counts vec4).
@compute @workgroup_size(WG)
fn heads_copy3_v4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = wid.x * WG + lid.x;
  let a = route(wid.y, e, p.L0, D0);
  let b = route(wid.y, e, p.L1, D1);
  let c = route(wid.y, e, p.L2, D2);
  if (a.z != 0u) { yv0[a.y] = xv0[a.x]; }
  if (b.z != 0u) { yv1[b.y] = xv1[b.x]; }
  if (c.z != 0u) { yv2[c.y] = xv2[c.x]; }
}

@compute @workgroup_size(WG)
fn heads_copy1_v4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let a = route(wid.y, wid.x * WG + lid.x, p.L0, D0);
  if (a.z != 0u) { yv0[a.y] = xv0[a.x]; }
}
