// RowParallel.h - splitting a graph whose ops all work row by row.
//
// Note [Row-parallel graphs]
// The generated loops run on one thread. A graph in which every op is
// elementwise, a reduction that keeps dim 0, or a softmax/layer_norm over
// other dims computes each row (index of dim 0) from the same row of its
// inputs: ew_chain, norm_softmax, most inference epilogues. Such a graph is
// compiled for a chunk of the rows, and a call runs the chunks through
// ember::parallel_for (the OpenMP pool the eager kernels and BLAS use), each
// on its slice of the inputs and outputs and with its own workspace. With one
// thread the chunks run one after the other, at the same cost.
//
// Why on the traced graph and not as a pass of the MLIR pipeline: a chunk is
// a property of the call, not of the code. The runtime cuts each argument
// and result to a chunk's rows (a descriptor with another base and row
// count: PackedArgs::add_rows), gives each chunk its own workspace and
// failure counts, and runs the chunks on the pool every eager kernel uses,
// serially when the caller is itself inside a parallel region. The compiled
// function is the unchanged graph at a smaller batch, so every pass and
// every FileCheck test of a stage applies to it as is; a pass doing the
// same would need scf.forall over chunks with per-chunk workspace views and
// the OpenMP lowering, whose regions cost the one-thread MLP step 20%
// (ParallelLoops.cpp). tests/compiler/row_parallel_test.cpp tests the split.
#pragma once

#include <optional>
#include <vector>

#include "ember/tracer/graph.h"

namespace ember::compiler {

struct RowSplit {
  int64_t rows = 0;           // the size of dim 0 of the batched values
  int64_t chunks = 1;         // equal parts
  std::vector<bool> batched;  // per graph value: has the row dim
};

// The split of `graph` into `chunks` parts, when it is row-parallel, has
// at least `min_elements` output elements and `chunks` divides its rows.
std::optional<RowSplit> row_split(const tracer::Graph& graph, int64_t chunks, int64_t min_elements);

// `graph` with the batched values' dim 0 cut to one chunk.
tracer::Graph chunk_graph(const tracer::Graph& graph, const RowSplit& split);

}  // namespace ember::compiler
