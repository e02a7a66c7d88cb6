//===- GraphToMLIR.cpp - a traced Graph as ember MLIR -----------------------===//
//
// One op per graph node, built generically from its OpAttrs by the op's
// row-specific attribute names; result types are the traced ones, so the
// verifier (InferTypeOpInterface) checks the dialect's type rules against
// what the eager run actually produced. C++ numbers become 0-d constants of
// the dtype the kernel computed in.
//
//===----------------------------------------------------------------------===//

#include "ember/ir/GraphToMLIR.h"

#include "llvm/Support/raw_ostream.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

#include "ember/ir/Dialect.h"

namespace ember::ir {

namespace {

mlir::Type element_type(mlir::MLIRContext& ctx, DType t) {
  switch (t) {
    case DType::Bool: return mlir::IntegerType::get(&ctx, 1);
    case DType::Int32: return mlir::IntegerType::get(&ctx, 32);
    case DType::Int64: return mlir::IntegerType::get(&ctx, 64);
    case DType::Float32: return mlir::Float32Type::get(&ctx);
    case DType::Float64: return mlir::Float64Type::get(&ctx);
  }
  return {};
}

mlir::RankedTensorType tensor_type(mlir::MLIRContext& ctx, const Shape& s, DType t) {
  return mlir::RankedTensorType::get(llvm::ArrayRef<int64_t>(s.begin(), s.end()), element_type(ctx, t));
}

llvm::ArrayRef<int64_t> ints(const Shape& s) { return {s.begin(), s.end()}; }

mlir::DenseElementsAttr dense(mlir::RankedTensorType type, const Tensor& t) {
  switch (t.dtype()) {
    case DType::Float32: return mlir::DenseElementsAttr::get(type, llvm::ArrayRef(t.to_vector<float>()));
    case DType::Float64: return mlir::DenseElementsAttr::get(type, llvm::ArrayRef(t.to_vector<double>()));
    case DType::Int64: return mlir::DenseElementsAttr::get(type, llvm::ArrayRef(t.to_vector<int64_t>()));
    case DType::Int32: return mlir::DenseElementsAttr::get(type, llvm::ArrayRef(t.to_vector<int32_t>()));
    case DType::Bool: {
      const auto v = t.to_vector<bool>();
      return mlir::DenseElementsAttr::get(type, llvm::SmallVector<bool>(v.begin(), v.end()));
    }
  }
  return {};
}

// The dtype a binary kernel computes in when one operand is a C++ number of
// kind `number` (Note [Type promotion]: a wrapped number).
DType scalar_compute_dtype(OpId op, DType tensor_dtype, DType number) {
  TypePromotion p;
  p.add_tensor(tensor_dtype, 1);
  p.add_number(number);
  return p.result();
}

// The named attributes of a node, by its row's documented OpAttrs fields.
void add_attributes(mlir::OpBuilder& b, OpId op, const OpAttrs& a, mlir::OperationState& s) {
  auto i64 = [&](const char* name, int64_t v) { s.addAttribute(name, b.getI64IntegerAttr(v)); };
  auto f64 = [&](const char* name, double v) { s.addAttribute(name, b.getF64FloatAttr(v)); };
  auto array = [&](const char* name, llvm::ArrayRef<int64_t> v) { s.addAttribute(name, b.getDenseI64ArrayAttr(v)); };
  auto type = [&](const char* name, DType t) { s.addAttribute(name, mlir::TypeAttr::get(element_type(*b.getContext(), t))); };
  const OpKind kind = op_info(op).kind;
  switch (op) {
    case OpId::clamp:
      if (a.has(kHasMin)) f64("min", a.scalar);
      if (a.has(kHasMax)) f64("max", a.scalar2);
      return;
    case OpId::copy: type("element_type", a.dtype); return;
    case OpId::full_like: f64("value", a.scalar); return;
    case OpId::var: i64("correction", a.index); break;
    case OpId::view: case OpId::expand: array("shape", ints(a.ints)); return;
    case OpId::permute: case OpId::squeeze: array("dims", ints(a.ints)); return;
    case OpId::slice:
      i64("dim", a.dim), i64("start", a.ints[0]), i64("end", a.ints[1]), i64("step", a.ints[2]);
      return;
    case OpId::select: i64("dim", a.dim), i64("index", a.index); return;
    case OpId::unsqueeze: case OpId::softmax: case OpId::log_softmax: case OpId::cat: i64("dim", a.dim); return;
    case OpId::slice_backward:
      array("input_shape", ints(a.ints)), i64("dim", a.dim);
      i64("start", a.ints2[0]), i64("end", a.ints2[1]), i64("step", a.ints2[2]);
      return;
    case OpId::select_backward: array("input_shape", ints(a.ints)), i64("dim", a.dim), i64("index", a.index); return;
    case OpId::layer_norm: i64("normalized_dims", a.index), f64("eps", a.scalar); return;
    case OpId::cross_entropy: case OpId::nll_loss: i64("reduction", a.dim), i64("ignore_index", a.index); return;
    case OpId::embedding_backward: i64("num_weights", a.index); return;
    case OpId::conv2d: case OpId::max_pool2d: case OpId::avg_pool2d: case OpId::max_pool2d_backward:
      array("geometry", ints(a.ints));
      return;
    case OpId::conv2d_backward_input: case OpId::conv2d_backward_weight: case OpId::avg_pool2d_backward:
      array("geometry", ints(a.ints)), array("result_shape", ints(a.ints2));
      return;
    default: break;
  }
  if (kind == OpKind::Reduce) {
    array("dims", ints(a.ints));
    s.addAttribute("keepdim", b.getBoolAttr(a.has(kKeepdim)));
  } else if (kind == OpKind::ReduceIndex) {
    i64("dim", a.dim);
    s.addAttribute("keepdim", b.getBoolAttr(a.has(kKeepdim)));
  } else if (kind == OpKind::Creation) {
    array("shape", ints(a.ints));
    type("element_type", a.dtype);
    switch (op) {
      case OpId::full: f64("value", a.scalar); break;
      case OpId::arange: f64("start", a.scalar), f64("step", a.scalar2); break;
      case OpId::linspace: f64("start", a.scalar), f64("end", a.scalar2); break;
      case OpId::randint: f64("low", a.scalar), f64("high", a.scalar2); break;
      default: break;
    }
  }
}

mlir::Location location(mlir::MLIRContext& ctx, const Loc& loc) {
  std::string file = loc.file_name();
  if (auto slash = file.rfind('/'); slash != std::string::npos) file = file.substr(slash + 1);
  return mlir::FileLineColLoc::get(&ctx, file, loc.line(), loc.column());
}

}  // namespace

void load_dialects(mlir::MLIRContext& context) {
  context.getOrLoadDialect<EmberDialect>();
  context.getOrLoadDialect<mlir::func::FuncDialect>();
}

mlir::OwningOpRef<mlir::ModuleOp> graph_to_mlir(mlir::MLIRContext& ctx, const tracer::Graph& g, std::string_view name) {
  load_dialects(ctx);
  mlir::OpBuilder b(&ctx);
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(b.getUnknownLoc());
  b.setInsertionPointToEnd(module->getBody());

  // Arguments: inputs, then captured tensors.
  llvm::SmallVector<mlir::Type> arg_types;
  llvm::SmallVector<mlir::Attribute> arg_names;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const auto& v = g.values[g.inputs[i]];
    arg_types.push_back(tensor_type(ctx, v.shape, v.dtype));
    arg_names.push_back(b.getStringAttr("input " + std::to_string(i)));
  }
  for (size_t i = 0; i < g.captured_values.size(); ++i) {
    const auto& v = g.values[g.captured_values[i]];
    arg_types.push_back(tensor_type(ctx, v.shape, v.dtype));
    arg_names.push_back(b.getStringAttr("captured " + std::to_string(i)));
  }
  // Results: outputs, write-backs, .grad writes.
  llvm::SmallVector<int> result_values;
  llvm::SmallVector<mlir::Attribute> result_names;
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    result_values.push_back(g.outputs[i]);
    result_names.push_back(b.getStringAttr("output " + std::to_string(i)));
  }
  for (const auto& w : g.writebacks) {
    result_values.push_back(w.value);
    result_names.push_back(b.getStringAttr(std::string("write ") + (w.target == tracer::ValueKind::Input ? "input " : "captured ") +
                                           std::to_string(w.index)));
  }
  for (const auto& gw : g.grad_writes) {
    if (gw.value < 0) continue;
    result_values.push_back(gw.value);
    result_names.push_back(b.getStringAttr("grad captured " + std::to_string(gw.captured_index)));
  }
  llvm::SmallVector<mlir::Type> result_types;
  for (int v : result_values) result_types.push_back(tensor_type(ctx, g.values[v].shape, g.values[v].dtype));

  auto func = b.create<mlir::func::FuncOp>(b.getUnknownLoc(), name, b.getFunctionType(arg_types, result_types));
  func->setAttr("ember.arguments", b.getArrayAttr(arg_names));
  func->setAttr("ember.results", b.getArrayAttr(result_names));
  // Note [In-place write-backs]: a write-back of the target's own type is
  // computed into the target's buffer (bufferize() makes it so), as eager's
  // in-place ops do; `ember.in_place` names the argument it is written into.
  for (size_t i = 0; i < g.writebacks.size(); ++i) {
    const auto& w = g.writebacks[i];
    const int arg = w.target == tracer::ValueKind::Input ? w.index : static_cast<int>(g.inputs.size()) + w.index;
    const unsigned result = static_cast<unsigned>(g.outputs.size() + i);
    if (arg_types[arg] == result_types[result]) func.setResultAttr(result, kInPlaceAttr, b.getI64IntegerAttr(arg));
  }
  mlir::Block* entry = func.addEntryBlock();
  b.setInsertionPointToEnd(entry);

  std::vector<mlir::Value> env(g.values.size());
  for (size_t i = 0; i < g.inputs.size(); ++i) env[g.inputs[i]] = entry->getArgument(i);
  for (size_t i = 0; i < g.captured_values.size(); ++i)
    env[g.captured_values[i]] = entry->getArgument(g.inputs.size() + i);
  for (size_t i = 0; i < g.constant_values.size(); ++i) {
    const auto& v = g.values[g.constant_values[i]];
    auto type = tensor_type(ctx, v.shape, v.dtype);
    env[g.constant_values[i]] = b.create<ConstantOp>(b.getUnknownLoc(), dense(type, g.constants[i]));
  }

  for (const tracer::Node& n : g.nodes) {
    const mlir::Location loc = location(ctx, n.loc);
    mlir::OperationState state(loc, std::string("ember.") + op_name(n.op));
    llvm::SmallVector<mlir::Value> operands;
    for (int in : n.inputs) operands.push_back(env[in]);
    if (n.attrs.has(kScalarLhs | kScalarRhs)) {
      // The C++ number becomes a 0-d constant in the dtype the kernel computed in.
      const auto& x = g.values[n.inputs[0]];
      const DType dt = scalar_compute_dtype(n.op, x.dtype, n.attrs.dtype);
      auto type = tensor_type(ctx, Shape(), dt);
      mlir::Attribute value = is_floating(dt)
                                  ? mlir::Attribute(mlir::DenseElementsAttr::get(type, llvm::ArrayRef<double>(n.attrs.scalar)))
                                  : mlir::Attribute(mlir::DenseElementsAttr::get(
                                        type, llvm::APInt(mlir::cast<mlir::IntegerType>(type.getElementType()).getWidth(),
                                                          static_cast<int64_t>(n.attrs.scalar), /*isSigned=*/true)));
      if (dt == DType::Float32)
        value = mlir::DenseElementsAttr::get(type, llvm::ArrayRef<float>(static_cast<float>(n.attrs.scalar)));
      mlir::Value c = b.create<ConstantOp>(loc, mlir::cast<mlir::ElementsAttr>(value));
      operands.insert(n.attrs.has(kScalarLhs) ? operands.begin() : operands.end(), c);
    }
    state.addOperands(operands);
    add_attributes(b, n.op, n.attrs, state);
    for (int out : n.outputs) state.addTypes(tensor_type(ctx, g.values[out].shape, g.values[out].dtype));
    mlir::Operation* op = b.create(state);
    for (size_t k = 0; k < n.outputs.size(); ++k) env[n.outputs[k]] = op->getResult(k);
  }
  llvm::SmallVector<mlir::Value> results;
  for (int v : result_values) results.push_back(env[v]);
  b.create<mlir::func::ReturnOp>(b.getUnknownLoc(), results);

  std::string diagnostics;
  {
    mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic& d) {
      llvm::raw_string_ostream os(diagnostics);
      os << d.getLocation() << ": " << d << "\n";
      return mlir::success();
    });
    if (mlir::failed(mlir::verify(*module)))
      throw_error("graph_to_mlir: the module does not verify:\n" + diagnostics, Loc::current());
  }
  return module;
}

std::string to_text(mlir::ModuleOp module, bool with_locations) {
  std::string text;
  llvm::raw_string_ostream os(text);
  mlir::OpPrintingFlags flags;
  if (with_locations) flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
  module->print(os, flags);
  return text;
}

std::string graph_to_mlir_text(const tracer::Graph& graph, std::string_view name, bool with_locations) {
  mlir::MLIRContext context;
  auto module = graph_to_mlir(context, graph, name);
  return to_text(*module, with_locations);
}

}  // namespace ember::ir
