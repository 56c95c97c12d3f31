/**
 * Workgroup memory a pipeline will need, computed from the WGSL before the
 * pipeline is created, so a tile size too large for the adapter is refused
 * up front with the limit named (instead of a validation error from Dawn).
 * Sizes may depend on override constants: `var<workgroup> t: array<f32, TM * TK>`
 * is evaluated with the pipeline's constants over the WGSL defaults.
 */

const ELEMENT_BYTES: Record<string, number> = {
  f32: 4,
  u32: 4,
  i32: 4,
  f16: 2,
  vec2f: 8,
  vec2u: 8,
  vec2i: 8,
  'vec2<f32>': 8,
  vec4f: 16,
  vec4u: 16,
  vec4i: 16,
  'vec4<f32>': 16,
  'vec4<u32>': 16,
};

/** Integer expression over + - * / and parentheses, identifiers from `env`. */
function evaluate(expr: string, env: Map<string, number>): number | null {
  const tokens = expr.match(/[A-Za-z_]\w*|\d+u?|[-+*/()]/g);
  if (!tokens || tokens.join('').length !== expr.replace(/\s+/g, '').length) return null;
  let i = 0;
  const atom = (): number | null => {
    const t = tokens[i++];
    if (t === undefined) return null;
    if (t === '(') {
      const v = sum();
      if (tokens[i++] !== ')') return null;
      return v;
    }
    if (/^\d/.test(t)) return Number.parseInt(t, 10);
    return env.get(t) ?? null;
  };
  const product = (): number | null => {
    let v = atom();
    while (v !== null && (tokens[i] === '*' || tokens[i] === '/')) {
      const op = tokens[i++];
      const r = atom();
      if (r === null) return null;
      v = op === '*' ? v * r : Math.floor(v / r);
    }
    return v;
  };
  const sum = (): number | null => {
    let v = product();
    while (v !== null && (tokens[i] === '+' || tokens[i] === '-')) {
      const op = tokens[i++];
      const r = product();
      if (r === null) return null;
      v = op === '+' ? v + r : v - r;
    }
    return v;
  };
  const v = sum();
  return i === tokens.length ? v : null;
}

/**
 * Bytes of `var<workgroup>` storage declared by a WGSL module, given override
 * values (null when a size cannot be evaluated: the check is then skipped).
 * Counts every workgroup variable of the module — an upper bound for any one
 * entry point.
 */
export function workgroupBytes(source: string, constants: Record<string, number>): number | null {
  const env = new Map<string, number>();
  for (const m of source.matchAll(/\b(?:override|const)\s+(\w+)\s*(?::\s*\w+)?\s*=\s*([^;]+);/g)) {
    const v = evaluate(m[2]!.trim(), env);
    if (v !== null) env.set(m[1]!, v);
  }
  for (const [k, v] of Object.entries(constants)) env.set(k, v);
  let total = 0;
  for (const m of source.matchAll(/var<workgroup>\s+\w+\s*:\s*array<\s*([\w<>]+)\s*,\s*([^>]+?)\s*>\s*;/g)) {
    const el = ELEMENT_BYTES[m[1]!];
    const n = evaluate(m[2]!, env);
    if (el === undefined || n === null) return null;
    total += el * n;
  }
  return total;
}
