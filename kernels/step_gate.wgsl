// The gate of a training step: decides on the GPU, without a readback,
// whether this step's update may reach the weights, and by how much the
// gradient is scaled (global-norm clipping).
//
//   values[0 .. n_terms)  the step's loss terms (f32 scalars)
//   values[norm_index]    Σ g² over every gradient arena (when has_norm = 1)
//
//   gate[0] = 1 when every loss term and the gradient norm are finite, else 0
//   gate[1] = clip / (‖g‖ + 1e-6) when clip > 0 and ‖g‖ > clip, else 1
//
// The optimiser and EMA kernels (optim.wgsl) skip their update when
// gate[0] = 0 and multiply the gradient by gate[1], so a non-finite step
// never reaches the weights and the host learns of it a step later, from the
// losses it reads back asynchronously.
//
// Layout: one workgroup of one thread (a handful of scalars). Finiteness is
// tested on the bits (exponent all ones = inf or NaN): WGSL has no isnan and
// may assume floats are finite in comparisons.

struct Params {
  n_terms: u32,
  has_norm: u32,
  norm_index: u32,
  clip: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> values: array<f32>;
@group(0) @binding(2) var<storage, read_write> gate: array<f32>;

fn finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

@compute @workgroup_size(1)
fn step_gate() {
  var ok = true;
  for (var i = 0u; i < p.n_terms; i++) {
    ok = ok && finite(values[i]);
  }
  var scale = 1.0;
  if (p.has_norm != 0u) {
    let sq = values[p.norm_index];
    ok = ok && finite(sq);
    let norm = sqrt(sq);
    if (p.clip > 0.0 && norm > p.clip) {
      scale = p.clip / (norm + 1e-6);
    }
  }
  gate[0] = select(0.0, 1.0, ok);
  gate[1] = scale;
}
