import sys
def gen(NA):
    L=[f"@compute @workgroup_size(WG, 1, 1)\nfn f{NA}(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {{",
       "  let x = vec4f(f32(lid.x) * 1e-3, 0.5, 0.25, 0.125);"]
    for i in range(NA): L.append(f"  var c{i} = x + {i}.0;")
    L.append("  for (var k = 0u; k < p.K; k++) {\n    let y = vec4f(f32(k) * 1e-6);")
    for r in range(max(1, 16 // NA)):
        for i in range(NA): L.append(f"    c{i} = fma(c{i}, y, x);")
    L.append("  }")
    L.append("  c[wid.x * WG + lid.x] = " + " + ".join(f"c{i}" for i in range(NA)) + ";\n}")
    return "\n".join(L)
print("""override WG: u32 = 64u;
struct Params { K: u32, }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> c: array<vec4f>;
""" + "\n".join(gen(int(a)) for a in sys.argv[1:]))
