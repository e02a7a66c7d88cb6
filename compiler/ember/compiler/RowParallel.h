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
#pragma once

#include <optional>
#include <vector>

#include "ember/tracer/graph.h"

namespace ember::compiler {

struct RowSplit {
  int64_t rows = 0;    // the size of dim 0 of the batched values
  int64_t chunks = 1;  // equal parts
  std::vector<bool> batched;  // per graph value: has the row dim
};

// The split of `graph` into `chunks` parts, when it is row-parallel, has
// at least `min_elements` output elements and `chunks` divides its rows.
std::optional<RowSplit> row_split(const tracer::Graph& graph, int64_t chunks, int64_t min_elements);

// `graph` with the batched values' dim 0 cut to one chunk.
tracer::Graph chunk_graph(const tracer::Graph& graph, const RowSplit& split);

}  // namespace ember::compiler
