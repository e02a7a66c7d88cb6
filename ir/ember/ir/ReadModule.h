// ReadModule.h - ember MLIR that comes from outside the process (an export's
// model.mlir, a file given to a tool): parsed, verified, and checked to be a
// graph of the kind ember writes, before any pass runs on it.
//
//   mlir::MLIRContext context;  (with the dialects loaded)
//   auto module = ir::read_ember_module(context, text, "model.mlir", "model_forward");
//
// Note [Modules from files]
// A file is not trusted. Parsing and the ops' verifiers (type inference by
// the eager rules) reject malformed ops; beyond them the module must hold
// exactly one public function (the one named, if a name is given) whose
// body has only ember ops and func.return: no calls, no other dialects, so
// a file cannot make compiled code call into the process. Every tensor type
// in it is of an ember dtype, has a static shape of at most 8 dims and fits
// in memory, so lowering never sizes a buffer from an absurd or overflowing
// shape. Anything else is an ember::Error naming the file and the problem.
#pragma once

#include <string>
#include <string_view>

#include "ember/error.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace ember::ir {

// `function` empty: the module's only public function, whatever its name.
// `admits_dynamic` null: every type static. Otherwise `?` dims are allowed,
// and each ember op with a `?` dim in its operands or results must be one
// it admits (an op whose lowering takes them: a hostile file's other ops
// never reach a lowering that does not).
mlir::OwningOpRef<mlir::ModuleOp> read_ember_module(mlir::MLIRContext& context, std::string_view text,
                                                    const std::string& file, const std::string& function,
                                                    const Loc& loc = Loc::current(),
                                                    bool (*admits_dynamic)(mlir::Operation*) = nullptr);

// The name of the one public function of a module checked as above.
std::string entry_function(mlir::ModuleOp module);

}  // namespace ember::ir
