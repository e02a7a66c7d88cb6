// export_c.h - the C side of an export (export.h): the entry points added to
// the lowered module, and model.h that declares them.
//
// Note [Dynamic exports]
// An export may leave dims dynamic (ExportOptions::dynamic_dims): each gets
// the name of a size, and the C entry takes every size, in the order of
// first naming, before the arrays: int model_run(int64_t batch, int64_t
// length, const float* in0, ..., float* out0, ...). Dims of one name are one
// size. Each dynamic dim of an output is proven, from the lowered graph, to
// be a dynamic dim of an input (Note [Sizes of a loaded export's results]),
// whose size it takes; model.json writes a dynamic dim as its size's name
// and lists the names in order under "dynamic_sizes".
#pragma once

#include <string>
#include <vector>

#include "ember/dtype.h"
#include "ember/shape.h"
#include "ember/tensor.h"

namespace mlir {
class ModuleOp;
}

namespace ember::jit {

// One argument of the exported function: a name, a shape, a dtype, and for
// each dim the index of its dynamic size (-1: static).
struct ArgumentSpec {
  std::string name;
  Shape shape;
  DType dtype;
  std::vector<int> size_of;  // empty: every dim static
  int size_index(int64_t d) const { return d < static_cast<int64_t>(size_of.size()) ? size_of[d] : -1; }
};

// The C type of an element of `t`.
const char* c_type(DType t);

// Whether `name` may name a size: a C identifier that is none of the
// entry's other parameters (in0, out0, workspace).
bool valid_size_name(const std::string& name);

// <name>_run([sizes...,] inputs..., outputs...) -> i32, <name>_run_ws and
// <name>_workspace_size around <name>_forward in the lowered module, with
// the weights and the workspace as internal globals.
void add_c_entry(mlir::ModuleOp module, const std::string& name, const std::vector<ArgumentSpec>& inputs,
                 const std::vector<Tensor>& weights, const std::vector<ArgumentSpec>& outputs, size_t checks,
                 int64_t workspace_bytes, const std::vector<std::string>& sizes, const Loc& loc);

// model.h: the entry points, their arrays' shapes and the checks.
std::string header_text(const std::string& name, const std::string& key,
                        const std::vector<ArgumentSpec>& inputs, const std::vector<ArgumentSpec>& outputs,
                        const std::vector<std::string>& checks, const std::vector<std::string>& sizes);

}  // namespace ember::jit
