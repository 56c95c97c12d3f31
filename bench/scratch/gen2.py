import sys
# lanes along N; lane computes TM rows x (4*TN4) cols; A: uniform vec4 loads along k (K%4==0); B: per-lane vec4 loads (N%4==0)
def gen(TM, TN4):
    name = f"g_{TM}_{TN4}"
    L = [f"@compute @workgroup_size(WG, 1, 1)\nfn {name}(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {{"]
    L.append(f"  let m0 = wid.y * {TM}u;")
    L.append("  let N4 = p.N / 4u; let K4 = p.K / 4u;")
    L.append(f"  let nb = (wid.x * WG + lid.x) * {TN4}u;")
    for j in range(TN4): L.append(f"  let n{j} = min(nb + {j}u, N4 - 1u);")
    for i in range(TM): L.append(f"  let ar{i} = min(m0 + {i}u, p.M - 1u) * K4;")
    for i in range(TM):
        for j in range(TN4): L.append(f"  var c{i}_{j} = vec4f(0.0);")
    L.append("  for (var k4 = 0u; k4 < K4; k4++) {")
    L.append("    let kb = k4 * 4u * N4;")
    for kk in range(4):
        for j in range(TN4): L.append(f"    let b{kk}_{j} = b4[kb + {kk}u * N4 + n{j}];")
    for i in range(TM):
        L.append(f"    let av{i} = a4[ar{i} + k4];")
        for kk in range(4):
            for j in range(TN4): L.append(f"    c{i}_{j} = fma(vec4f(av{i}.{'xyzw'[kk]}), b{kk}_{j}, c{i}_{j});")
    L.append("  }")
    for i in range(TM):
        for j in range(TN4): L.append(f"  if (m0 + {i}u < p.M && nb + {j}u < N4) {{ c4[(m0 + {i}u) * N4 + nb + {j}u] = c{i}_{j}; }}")
    L.append("}")
    return "\n".join(L)
hdr = """override WG: u32 = 64u;
struct Params { M: u32, N: u32, K: u32, batch: u32, a_batch_stride: u32, b_batch_stride: u32, }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a4: array<vec4f>;
@group(0) @binding(2) var<storage, read> b4: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> c4: array<vec4f>;
"""
print(hdr + "\n".join(gen(*map(int, x.split(','))) for x in sys.argv[1:]))
