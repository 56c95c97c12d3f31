import sys
# Generate hand-unrolled NN kernels: lanes along N (contiguous B loads), TM rows uniform A, TN columns per lane at stride WG, k unrolled by KU with vec4 uniform A loads when KU==4
def gen(TM, TN, KU):
    name = f"nn_{TM}_{TN}_{KU}"
    L = []
    L.append(f"@compute @workgroup_size(WG, 1, 1)\nfn {name}(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {{")
    L.append(f"  let m0 = wid.y * {TM}u;")
    L.append(f"  let nb = wid.x * WG * {TN}u + lid.x;")
    for j in range(TN):
        L.append(f"  let n{j} = min(nb + {j}u * WG, p.N - 1u);")
    for i in range(TM):
        L.append(f"  let ar{i} = min(m0 + {i}u, p.M - 1u) * p.K;")
    for i in range(TM):
        for j in range(TN):
            L.append(f"  var c{i}_{j} = 0.0;")
    if KU == 1:
        L.append("  for (var k = 0u; k < p.K; k++) {")
        for j in range(TN):
            L.append(f"    let b{j} = b[k * p.N + n{j}];")
        for i in range(TM):
            L.append(f"    let a{i} = a[ar{i} + k];")
            for j in range(TN):
                L.append(f"    c{i}_{j} = fma(a{i}, b{j}, c{i}_{j});")
        L.append("  }")
    else:
        L.append("  for (var k = 0u; k < p.K; k += 4u) {")
        for kk in range(4):
            for j in range(TN):
                L.append(f"    let b{kk}_{j} = b[(k + {kk}u) * p.N + n{j}];")
        for i in range(TM):
            L.append(f"    let av{i} = a4[(ar{i} + k) / 4u];")
            for kk in range(4):
                comp = 'xyzw'[kk]
                for j in range(TN):
                    L.append(f"    c{i}_{j} = fma(av{i}.{comp}, b{kk}_{j}, c{i}_{j});")
        L.append("  }")
    for i in range(TM):
        for j in range(TN):
            L.append(f"  if (m0 + {i}u < p.M && nb + {j}u * WG < p.N) {{ c[(m0 + {i}u) * p.N + nb + {j}u * WG] = c{i}_{j}; }}")
    L.append("}")
    return "\n".join(L)
hdr = """override WG: u32 = 64u;
struct Params { M: u32, N: u32, K: u32, batch: u32, a_batch_stride: u32, b_batch_stride: u32, }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;
@group(0) @binding(5) var<storage, read> a4: array<vec4f>;
"""
cfgs = [tuple(map(int, x.split(','))) for x in sys.argv[1:]]
print(hdr + "\n".join(gen(*c) for c in cfgs))
