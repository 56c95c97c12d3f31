import sys
# Subgroup-of-8 variant: WG = 8 lanes = one subgroup. Workgroup covers TM rows (TM multiple of 8) x 32*TN4 columns.
# Per 4k: lane l loads A vec4 (row m0+8q+l, k..k+3) for q < TM/8; rows are shared with subgroupBroadcast.
def gen(TM, TN4):
    name = f"s_{TM}_{TN4}"
    Q = TM // 8
    L = [f"@compute @workgroup_size(8, 1, 1)\nfn {name}(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {{"]
    L.append(f"  let m0 = wid.y * {TM}u;")
    L.append("  let N4 = p.N / 4u; let K4 = p.K / 4u;")
    L.append(f"  let nb = (wid.x * 8u + lid.x) * {TN4}u;")
    for j in range(TN4): L.append(f"  let n{j} = min(nb + {j}u, N4 - 1u);")
    for q in range(Q): L.append(f"  let ar{q} = min(m0 + {q * 8}u + lid.x, p.M - 1u) * K4;")
    for i in range(TM):
        for j in range(TN4): L.append(f"  var c{i}_{j} = vec4f(0.0);")
    L.append("  for (var k4 = 0u; k4 < K4; k4++) {")
    L.append("    let kb = k4 * 4u * N4;")
    for kk in range(4):
        for j in range(TN4): L.append(f"    let b{kk}_{j} = b4[kb + {kk}u * N4 + n{j}];")
    for q in range(Q): L.append(f"    let al{q} = a4[ar{q} + k4];")
    for i in range(TM):
        q, l = divmod(i, 8)
        L.append(f"    let av{i} = subgroupBroadcast(al{q}, {l}u);")
        for kk in range(4):
            for j in range(TN4): L.append(f"    c{i}_{j} = fma(vec4f(av{i}.{'xyzw'[kk]}), b{kk}_{j}, c{i}_{j});")
    L.append("  }")
    for i in range(TM):
        for j in range(TN4): L.append(f"  if (m0 + {i}u < p.M && nb + {j}u < N4) {{ c4[(m0 + {i}u) * N4 + nb + {j}u] = c{i}_{j}; }}")
    L.append("}")
    return "\n".join(L)
hdr = """enable subgroups;
struct Params { M: u32, N: u32, K: u32, batch: u32, a_batch_stride: u32, b_batch_stride: u32, }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a4: array<vec4f>;
@group(0) @binding(2) var<storage, read> b4: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> c4: array<vec4f>;
"""
print(hdr + "\n".join(gen(*map(int, x.split(','))) for x in sys.argv[1:]))
