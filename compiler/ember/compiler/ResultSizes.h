// ResultSizes.h - which argument dim each `?` dim of a function's results is.
//
// Note [Sizes of a loaded export's results]
// A dynamic export's runner allocates each result at the sizes model.json
// names, and the code writes its results into those buffers (Note
// [Destination passing]). model.json and model.mlir are files: a result
// whose `?` dim the graph computes otherwise (a concatenation's 2n) would
// be written past its buffer. So load_export proves, before compiling,
// that each `?` dim of each result is a `?` dim of an argument: tensor.dim
// of the result, resolved through the ops' shape reification and folded,
// must become tensor.dim of a function argument. What it cannot prove is
// refused.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mlir {
class ModuleOp;
}

namespace ember::compiler {

struct ResultDim {
  size_t result = 0;
  int64_t dim = 0;
  int argument = -1;  // the argument whose dim it provably is, or -1
  int64_t argument_dim = -1;
};

// Every `?` dim of `function`'s results, with its argument dim where one is
// proven. `module` is at the tensor level (after lower_to_linalg) and is
// left as it was (the analysis runs on a copy).
std::vector<ResultDim> dynamic_result_dims(mlir::ModuleOp module, const std::string& function);

}  // namespace ember::compiler
