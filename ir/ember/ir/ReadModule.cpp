//===- ReadModule.cpp - ember MLIR from files, checked ---------------------===//
//
// See Note [Modules from files] in ReadModule.h.
//
//===----------------------------------------------------------------------===//

#include "ember/ir/ReadModule.h"

#include "ember/allocator.h"
#include "ember/ir/Dialect.h"
#include "ember/shape.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

namespace ember::ir {

namespace {

// Why `type` cannot be an ember tensor, or empty; `?` dims only when `dynamic`.
std::string tensor_problem(mlir::Type type, bool dynamic) {
  auto ranked = mlir::dyn_cast<mlir::RankedTensorType>(type);
  if (!ranked) return "is not a ranked tensor";
  if (!is_ember_element_type(ranked.getElementType())) return "has an element type ember has no dtype for";
  if (ranked.getRank() > kMaxDims) return "has more than " + std::to_string(kMaxDims) + " dimensions";
  if (!ranked.hasStaticShape() && !dynamic) return "has a dynamic dimension";
  if (ranked.getEncoding()) return "has an encoding";
  const uint64_t element_bytes = std::max<uint64_t>(1, ranked.getElementTypeBitWidth() / 8);
  uint64_t bytes = element_bytes;
  for (int64_t d : ranked.getShape())
    if (mlir::ShapedType::isDynamic(d))
      continue;  // sized at run time
    else if (d < 0 || __builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes) ||
             bytes > physical_memory_bytes())
      return "is larger than the machine's memory";
  return {};
}

std::string describe(mlir::Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  return text;
}

}  // namespace

std::string entry_function(mlir::ModuleOp module) {
  for (auto f : module.getOps<mlir::func::FuncOp>())
    if (f.isPublic()) return f.getName().str();
  return {};
}

mlir::OwningOpRef<mlir::ModuleOp> read_ember_module(mlir::MLIRContext& context, std::string_view text,
                                                    const std::string& file, const std::string& function,
                                                    const Loc& loc,
                                                    bool (*admits_dynamic)(mlir::Operation*)) {
  const bool dynamic = admits_dynamic != nullptr;
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic& d) {
    if (diagnostics.size() < 4096) {  // a hostile file can make thousands
      llvm::raw_string_ostream os(diagnostics);
      os << d.getLocation() << ": " << d << "\n";
    }
    return mlir::success();
  });
  mlir::ParserConfig config(&context, /*verifyAfterParse=*/false);
  // MLIR's lexer reads one byte past the text, expecting a terminating NUL
  // (found by the ember_text fuzzer on a text that was not followed by one).
  const std::string terminated(text);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(terminated, config, file);
  EMBER_CHECK(static_cast<bool>(module), loc, file, " does not parse (truncated?):\n", diagnostics);
  const auto fail = [&](const std::string& why) { throw_error(file + ": " + why, loc); };

  // The shape of the module first: verifiers then run only on ops ember
  // knows, whose verifiers are ember's own.
  mlir::func::FuncOp entry;
  for (mlir::Operation& op : module->getBody()->getOperations()) {
    auto f = mlir::dyn_cast<mlir::func::FuncOp>(op);
    if (!f)
      fail("holds a top-level " + op.getName().getStringRef().str() + "; an ember module holds one function");
    if (entry) fail("holds more than one function; an ember module holds one");
    entry = f;
  }
  if (!entry) fail("holds no function");
  if (!entry.isPublic() || entry.isExternal())
    fail("its function @" + entry.getName().str() + " has no body or is private");
  if (!function.empty() && entry.getName() != function)
    fail("has no function @" + function + " (it has @" + entry.getName().str() + ")");
  for (mlir::Type t : entry.getFunctionType().getInputs())
    if (std::string why = tensor_problem(t, dynamic); !why.empty())
      fail("an argument of type " + describe(t) + " " + why);
  for (mlir::Type t : entry.getFunctionType().getResults())
    if (std::string why = tensor_problem(t, dynamic); !why.empty())
      fail("a result of type " + describe(t) + " " + why);
  if (!entry.getBody().hasOneBlock()) fail("its function has more than one block");
  for (mlir::Operation& op : entry.getBody().front()) {
    const bool ember_op = op.getDialect() && op.getDialect()->getNamespace() == "ember";
    if (!ember_op && !mlir::isa<mlir::func::ReturnOp>(op))
      fail("its function holds " + op.getName().getStringRef().str() +
           "; only ember ops and func.return may appear");
    if (op.getNumRegions() != 0) fail("an op with regions (" + op.getName().getStringRef().str() + ")");
    for (mlir::Type t : op.getResultTypes())
      if (std::string why = tensor_problem(t, dynamic); !why.empty())
        fail(op.getName().getStringRef().str() + " has a result of type " + describe(t) + " that " + why);
    if (dynamic && ember_op) {
      bool touches = false;
      const auto dynamic_type = [](mlir::Type t) {
        auto shaped = mlir::dyn_cast<mlir::ShapedType>(t);
        return shaped && !shaped.hasStaticShape();
      };
      for (mlir::Type t : op.getOperandTypes()) touches = touches || dynamic_type(t);
      for (mlir::Type t : op.getResultTypes()) touches = touches || dynamic_type(t);
      if (touches && !admits_dynamic(&op))
        fail(op.getName().getStringRef().str() + " has dynamic dims, which its lowering does not take");
    }
  }
  if (mlir::failed(mlir::verify(*module))) fail("does not verify:\n" + diagnostics);
  return module;
}

}  // namespace ember::ir
