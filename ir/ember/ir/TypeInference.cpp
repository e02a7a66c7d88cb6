//===- TypeInference.cpp - result types of ember ops -----------------------===//
//
// The dialect asks the runtime's shape rules (meta.h, Note [One set of shape
// rules]): MLIR types become TensorMetas, the attributes OpAttrs (the
// generated op_attrs of each op), and the rule's refusal a diagnostic at the
// op. So the compiler accepts exactly the programs the runtime runs, and
// says why in the same words.
//
//===----------------------------------------------------------------------===//

#include "ember/ir/TypeInference.h"

#include <unordered_map>
#include <vector>
#include "ember/meta.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Operation.h"

namespace ember::ir {

bool is_ember_element_type(mlir::Type t) {
  return t.isF32() || t.isF64() || t.isInteger(64) || t.isInteger(32) || t.isInteger(1);
}
bool is_float(mlir::Type t) { return t.isF32() || t.isF64(); }

mlir::Type element_type(mlir::MLIRContext& ctx, DType t) {
  switch (t) {
    case DType::Bool:
      return mlir::IntegerType::get(&ctx, 1);
    case DType::Int32:
      return mlir::IntegerType::get(&ctx, 32);
    case DType::Int64:
      return mlir::IntegerType::get(&ctx, 64);
    case DType::Float32:
      return mlir::Float32Type::get(&ctx);
    case DType::Float64:
      return mlir::Float64Type::get(&ctx);
  }
  return {};
}

DType dtype_of(mlir::Type t) {
  if (t.isInteger(1)) return DType::Bool;
  if (t.isInteger(32)) return DType::Int32;
  if (t.isInteger(64)) return DType::Int64;
  if (t.isF64()) return DType::Float64;
  return DType::Float32;
}

mlir::Type promote(mlir::Type a, int64_t rank_a, mlir::Type b, int64_t rank_b) {
  TypePromotion p;
  p.add_tensor(dtype_of(a), rank_a);
  p.add_tensor(dtype_of(b), rank_b);
  return element_type(*a.getContext(), p.result());
}

namespace {

llvm::LogicalResult fail(std::optional<mlir::Location> location, OpId op, std::string message) {
  // The rules' messages begin "op: "; MLIR says which op its own way.
  const std::string prefix = std::string(op_name(op)) + ": ";
  if (message.rfind(prefix, 0) == 0) message = message.substr(prefix.size());
  if (location) mlir::emitError(*location) << "'ember." << op_name(op) << "': " << message;
  return llvm::failure();
}

}  // namespace

llvm::LogicalResult infer_result_types(OpId op, mlir::MLIRContext* context,
                                       std::optional<mlir::Location> location, mlir::ValueRange operands,
                                       llvm::function_ref<OpAttrs()> attrs, Types& out) {
  std::vector<TensorMeta> in(operands.size());
  TensorMeta results[2];
  for (size_t i = 0; i < operands.size(); ++i) {
    auto t = mlir::dyn_cast<mlir::RankedTensorType>(operands[i].getType());
    if (!t || !is_ember_element_type(t.getElementType()))
      return fail(location, op,
                  "operand " + std::to_string(i) + " must be a ranked tensor of f32, f64, i64, i32 or i1");
    if (t.getRank() > kMaxDims)
      return fail(location, op,
                  "operand " + std::to_string(i) + " has more than " + std::to_string(kMaxDims) + " dims");
    Shape s;
    for (int64_t d : t.getShape()) s.push_back(d == mlir::ShapedType::kDynamic ? kDynamic : d);
    in[i] = {s, dtype_of(t.getElementType())};
  }
  try {
    infer_meta(op, in.data(), static_cast<int>(in.size()), attrs(), results);
  } catch (const Error& e) {  // the rule's refusal, or an attribute no OpAttrs holds
    return fail(location, op, e.what());
  }
  for (int k = 0; k < op_info(op).num_outputs; ++k) {
    llvm::SmallVector<int64_t> shape;
    for (int64_t d : results[k].sizes) shape.push_back(d == kDynamic ? mlir::ShapedType::kDynamic : d);
    out.push_back(mlir::RankedTensorType::get(shape, element_type(*context, results[k].dtype)));
  }
  return llvm::success();
}

std::optional<OpId> op_id_of(mlir::Operation* op) {
  static const std::unordered_map<std::string, OpId> ids = [] {
    std::unordered_map<std::string, OpId> m;
    for (int i = 0; i < kNumOps; ++i)
      m.emplace(std::string("ember.") + op_name(static_cast<OpId>(i)), static_cast<OpId>(i));
    return m;
  }();
  auto it = ids.find(op->getName().getStringRef().str());
  if (it == ids.end()) return std::nullopt;
  return it->second;
}

llvm::LogicalResult infer_constant_type(std::optional<mlir::Location> location, mlir::Attribute value,
                                        Types& out) {
  auto typed = mlir::dyn_cast_or_null<mlir::TypedAttr>(value);
  auto t = typed ? mlir::dyn_cast<mlir::RankedTensorType>(typed.getType()) : nullptr;
  if (!t || !is_ember_element_type(t.getElementType())) {
    if (location)
      mlir::emitError(*location) << "'ember.constant': the value must be a ranked tensor of an ember type";
    return llvm::failure();
  }
  out.push_back(t);
  return llvm::success();
}

}  // namespace ember::ir
