// op_samples.h - one sample call of every op of the table: inputs and
// attributes that the op accepts, from the `sample` of its schema row. The
// tracer sweep traces each, the dialect sweep converts each, the parity
// sweep compiles each. A row without a sample fails the build (tools/opgen).
#pragma once

#include <optional>
#include <vector>

#include "ember/dispatch.h"
#include "ember/ember.h"
#include "ember/op_attrs.h"
#include "ember/op_table.h"
#include "ember/tracer/trace.h"

namespace ember::testing {

struct OpSample {
  std::vector<Tensor> inputs;
  OpAttrs attrs;
};

inline Tensor sample_uniform(IntArrayRef shape, double lo = -1, double hi = 1) {
  return rand(shape) * (hi - lo) + lo;
}

// The sample call of the op's schema row (runtime/ember/ops.yaml: `sample`).
inline std::optional<OpSample> op_sample(OpId op) {
#include "ember/op_samples.inc"
}

// Runs `op` once on `inputs` through dispatch (one or two outputs).
inline std::vector<Tensor> run_op(OpId op, const std::vector<Tensor>& inputs, const OpAttrs& attrs) {
  if (op_info(op).num_outputs == 2) {
    auto [a, b] = dispatch2(op, inputs, attrs, Loc::current());
    return {a, b};
  }
  return {dispatch(op, inputs, attrs, Loc::current())};
}

// The trace of the op's sample call.
inline tracer::TraceResult trace_sample(OpId op, const OpSample& sample) {
  return tracer::trace([&](const std::vector<Tensor>& in) { return run_op(op, in, sample.attrs); },
                       sample.inputs);
}

}  // namespace ember::testing
