// trace.h - capture what one eager run of a function did, as a Graph.
//
//   auto [graph, outputs] = tracer::trace([&](const std::vector<Tensor>& in) {
//     return std::vector<Tensor>{(*model)(in[0])};
//   }, {x});
//   std::cout << graph.to_text();
//
// The function runs eagerly (its outputs are the eager ones) while a dispatch
// observer records every op. Tensors that existed before the call are
// captured by reference; in-place ops are functionalized: each becomes its
// out-of-place op, later reads see the new value, and the final value of a
// captured tensor or input is written back after a replay. Reading values
// into C++ (item(), to_vector()) marks the trace data-dependent, with the line.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ember/tracer/graph.h"

namespace ember::tracer {

using TracedFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

struct TraceResult {
  Graph graph;
  std::vector<Tensor> outputs;  // of the eager run
};

TraceResult trace(const TracedFn& fn, const std::vector<Tensor>& inputs);

}  // namespace ember::tracer
