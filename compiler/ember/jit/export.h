// export.h - a compiled function as files that run without ember.
//
//   auto f = jit::compile(forward);
//   jit::export_graph(f, {x}, "out/");        // out/model.{mlir,o,h,json,safetensors}
//   // cc main.c out/model.o -lopenblas -lm   (model.h documents model_run)
//   auto g = jit::load_export("out/");         // back into ember, checked
//   std::vector<Tensor> y = g->run({x});
//
// For the guard key of `example_inputs`:
//   model.mlir         the graph in the ember dialect (parses with ember-opt);
//   model.o, model.h   native code for the host CPU with a plain C entry point,
//                      int model_run(const float* in0, ..., float* out0, ...),
//                      weights embedded; it needs only OpenBLAS, libm and libc;
//   model.json         the signature (names, shapes, dtypes), the guard key,
//                      the ember version;
//   model.safetensors  the captured tensors (weights), by argument name, which
//                      load_export binds to model.mlir's arguments.
// Only functions without side effects export (a training step's write-backs
// have no C equivalent); each file is written to a temporary and renamed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ember/jit/jit.h"

namespace ember::jit {

// A dim of an input left dynamic in an export, and the name of its size:
// the C parameter that gives it (Note [Dynamic exports] in export_c.h).
struct DynamicDim {
  int input = 0, dim = 0;
  std::string size = "n";  // dims of one name are one size
};

struct ExportOptions {
  std::string name = "model";  // file stem and C prefix: <name>_run
  // The entry takes each named size first, in the order of first naming:
  // {{0, 0, "batch"}, {0, 1, "length"}} makes
  // int <name>_run(int64_t batch, int64_t length, const float* in0, ...);
  // the outputs' dynamic dims are sizes of the inputs'. Empty: every size as
  // traced.
  std::vector<DynamicDim> dynamic_dims;
};

// Returns the paths written, model.mlir first.
std::vector<std::string> export_graph(const CompiledFunction& f, const std::vector<Tensor>& example_inputs,
                                      const std::string& dir, const ExportOptions& options = {},
                                      const Loc& loc = Loc::current());

// An export read back: model.json, model.mlir and model.safetensors checked
// (missing, truncated, another version: an error naming the file), then
// compiled by the JIT.
class LoadedExport {
 public:
  virtual ~LoadedExport() = default;
  virtual std::vector<Tensor> run(const std::vector<Tensor>& inputs, const Loc& loc = Loc::current()) = 0;
};
std::unique_ptr<LoadedExport> load_export(const std::string& dir, const ExportOptions& options = {},
                                          const Loc& loc = Loc::current());

// The contents of an export's three files, with the names errors use.
struct ExportTexts {
  std::string json, mlir, safetensors;
  std::string json_name = "model.json", mlir_name = "model.mlir", safetensors_name = "model.safetensors";
};
// Every check load_export makes, on contents already in memory, down to the
// LLVM dialect (no machine code): the fuzz harness of exports calls it.
// model.mlir must be a graph as ember writes them (Note [Modules from
// files]) whose function takes and returns what model.json says.
void check_export_texts(const ExportTexts& files, const ExportOptions& options = {},
                        const Loc& loc = Loc::current());

}  // namespace ember::jit
