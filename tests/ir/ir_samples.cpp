// ember-ir-samples - prints ember MLIR for the lit tests:
//   --every-op   one function per op of the table, from its traced sample call
//   --mlp        a traced MLP training step (forward, loss, backward, SGD), with locations
#include <cstring>
#include <iostream>

#include "../tracer/op_samples.h"
#include "ember/dispatch.h"
#include "ember/ir/GraphToMLIR.h"
#include "ember/tracer/trace.h"
#include "mlir/IR/MLIRContext.h"

using namespace ember;

tracer::Graph trace_sample(OpId op) {
  const auto sample = testing::op_sample(op);
  if (!sample) throw Error(std::string("no sample for ") + op_name(op));
  return testing::trace_sample(op, *sample).graph;
}

int main(int argc, char** argv) {
  manual_seed(0);
  if (argc > 1 && std::strcmp(argv[1], "--every-op") == 0) {
    for (int i = 0; i < kNumOps; ++i) {
      const OpId op = static_cast<OpId>(i);
      std::cout << ir::graph_to_mlir_text(trace_sample(op), op_name(op));
    }
    return 0;
  }
  if (argc > 1 && std::strcmp(argv[1], "--mlp") == 0) {
    auto model =
        std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(784, 32), std::make_shared<nn::ReLU>(),
                                         std::make_shared<nn::Linear>(32, 10));
    optim::SGD opt(model->parameters(), {.lr = 0.01, .momentum = 0.9});
    const Tensor x = rand({16, 784}), y = randint(0, 10, {16});
    auto step = [&](const std::vector<Tensor>& in) {
      opt.zero_grad();
      Tensor loss = nn::cross_entropy((*model)(in[0]), in[1]);
      loss.backward();
      opt.step();
      return std::vector<Tensor>{loss};
    };
    step({x, y});  // the momentum buffers exist before the traced step
    std::cout << ir::graph_to_mlir_text(tracer::trace(step, {x, y}).graph, "train_step",
                                        /*with_locations=*/true);
    return 0;
  }
  std::cerr << "usage: ember-ir-samples --every-op | --mlp\n";
  return 2;
}
