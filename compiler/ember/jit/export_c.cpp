// export_c.cpp - see export_c.h.
#include "ember/jit/export_c.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <sstream>
#include <utility>

#include "ember/compiler/CallingConvention.h"
#include "ember/error.h"
#include "ember/version.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace ember::jit {

const char* c_type(DType t) {
  switch (t) {
    case DType::Bool:
      return "bool";
    case DType::Int32:
      return "int32_t";
    case DType::Int64:
      return "int64_t";
    case DType::Float32:
      return "float";
    case DType::Float64:
      return "double";
  }
  return "void";
}

namespace {

// "[batch, 20]": a dynamic dim by its size's name.
std::string shape_text(const ArgumentSpec& a, const std::vector<std::string>& sizes) {
  std::ostringstream o;
  o << "[";
  for (int64_t i = 0; i < a.shape.ndim(); ++i) {
    o << (i ? ", " : "");
    if (a.size_index(i) >= 0)
      o << sizes[static_cast<size_t>(a.size_index(i))];
    else
      o << a.shape[i];
  }
  o << "]";
  return o.str();
}

// A memref descriptor of a dense row-major array at `base` whose dynamic
// dims are the entry's size arguments `sizes`: sizes and strides computed
// in the entry.
void push_sized_descriptor(mlir::OpBuilder& b, mlir::Location l, mlir::Value base, const ArgumentSpec& a,
                           llvm::ArrayRef<mlir::Value> sizes_given,
                           llvm::SmallVectorImpl<mlir::Value>& fields) {
  const Shape& shape = a.shape;
  const auto i64 = [&](int64_t v) -> mlir::Value {
    return b.create<mlir::LLVM::ConstantOp>(l, b.getI64Type(), b.getI64IntegerAttr(v));
  };
  fields.push_back(base);
  fields.push_back(base);
  fields.push_back(i64(0));
  llvm::SmallVector<mlir::Value> sizes, strides(shape.ndim());
  for (int64_t d = 0; d < shape.ndim(); ++d)
    sizes.push_back(a.size_index(d) >= 0 ? sizes_given[static_cast<size_t>(a.size_index(d))] : i64(shape[d]));
  mlir::Value stride = i64(1);
  for (int64_t d = shape.ndim() - 1; d >= 0; --d) {
    strides[d] = stride;
    stride = b.create<mlir::LLVM::MulOp>(l, stride, sizes[d]);
  }
  fields.append(sizes.begin(), sizes.end());
  fields.append(strides.begin(), strides.end());
}

}  // namespace

bool valid_size_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name == "workspace" ||
      std::isdigit(static_cast<unsigned char>(name[0])))
    return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  for (const char* array : {"in", "out"}) {  // in0, out1, ...: the arrays' names
    const std::string prefix = array;
    if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
        std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return false;
  }
  return true;
}

void add_c_entry(mlir::ModuleOp module, const std::string& name, const std::vector<ArgumentSpec>& inputs,
                 const std::vector<Tensor>& weights, const std::vector<ArgumentSpec>& outputs, size_t checks,
                 int64_t workspace_bytes, const std::vector<std::string>& sizes, const Loc& loc) {
  mlir::MLIRContext* ctx = module.getContext();
  mlir::OpBuilder b(ctx);
  b.setInsertionPointToEnd(module.getBody());
  const mlir::Location l = module.getLoc();
  auto ptr = mlir::LLVM::LLVMPointerType::get(ctx);
  auto forward = module.lookupSymbol<mlir::LLVM::LLVMFuncOp>(name + "_forward");
  EMBER_CHECK(static_cast<bool>(forward), loc, "export: no function ", name, "_forward after lowering");

  std::vector<mlir::LLVM::GlobalOp> weight_globals;
  for (size_t k = 0; k < weights.size(); ++k) {
    const Tensor w = weights[k].contiguous();
    EMBER_CHECK(w.dtype() != DType::Bool, loc, "export: bool weights are not supported");
    mlir::Type element = w.dtype() == DType::Float32   ? mlir::Type(b.getF32Type())
                         : w.dtype() == DType::Float64 ? mlir::Type(b.getF64Type())
                         : w.dtype() == DType::Int32   ? mlir::Type(b.getI32Type())
                                                       : mlir::Type(b.getI64Type());
    const int64_t n = std::max<int64_t>(w.numel(), 1);
    auto type = mlir::RankedTensorType::get({n}, element);
    std::vector<char> raw(static_cast<size_t>(n) * w.itemsize(), 0);
    if (w.numel()) std::memcpy(raw.data(), w.data_ptr(), raw.size());
    auto value = mlir::DenseElementsAttr::getFromRawBuffer(type, raw);
    weight_globals.push_back(b.create<mlir::LLVM::GlobalOp>(
        l, mlir::LLVM::LLVMArrayType::get(element, n), true, mlir::LLVM::Linkage::Internal,
        name + "_weight_" + std::to_string(k), value, 64));
  }
  const int64_t ws = std::max<int64_t>(workspace_bytes, 64);
  auto zero_bytes =
      mlir::DenseElementsAttr::get(mlir::RankedTensorType::get({ws}, b.getI8Type()), b.getI8IntegerAttr(0));
  auto workspace =
      b.create<mlir::LLVM::GlobalOp>(l, mlir::LLVM::LLVMArrayType::get(b.getI8Type(), ws), false,
                                     mlir::LLVM::Linkage::Internal, name + "_workspace", zero_bytes, 64);

  // <name>_run_ws(workspace, [sizes...,] inputs..., outputs...): the
  // caller's workspace, so calls on different workspaces may run at once.
  const size_t first = 1 + sizes.size();  // the first array argument
  llvm::SmallVector<mlir::Type> params(first + inputs.size() + outputs.size(), ptr);
  for (size_t k = 0; k < sizes.size(); ++k) params[1 + k] = b.getI64Type();
  auto run_ws = b.create<mlir::LLVM::LLVMFuncOp>(l, name + "_run_ws",
                                                 mlir::LLVM::LLVMFunctionType::get(b.getI32Type(), params));
  mlir::Block* entry = run_ws.addEntryBlock(b);
  b.setInsertionPointToStart(entry);
  const auto i32 = [&](int32_t v) {
    return b.create<mlir::LLVM::ConstantOp>(l, b.getI32Type(), b.getI32IntegerAttr(v));
  };
  const auto i64 = [&](int64_t v) {
    return b.create<mlir::LLVM::ConstantOp>(l, b.getI64Type(), b.getI64IntegerAttr(v));
  };
  // A workspace that is null or not 64-byte aligned returns -1 at once.
  mlir::Value ws_arg = entry->getArgument(0);
  mlir::Value address = b.create<mlir::LLVM::PtrToIntOp>(l, b.getI64Type(), ws_arg);
  mlir::Value misaligned = b.create<mlir::LLVM::ICmpOp>(
      l, mlir::LLVM::ICmpPredicate::ne, b.create<mlir::LLVM::AndOp>(l, address, i64(63)), i64(0));
  mlir::Value null = b.create<mlir::LLVM::ICmpOp>(l, mlir::LLVM::ICmpPredicate::eq, address, i64(0));
  mlir::Value bad = b.create<mlir::LLVM::OrOp>(l, misaligned, null);
  llvm::SmallVector<mlir::Value> size_values;
  for (size_t k = 0; k < sizes.size(); ++k) {  // a negative size is refused like a bad workspace
    size_values.push_back(entry->getArgument(static_cast<unsigned>(1 + k)));
    bad = b.create<mlir::LLVM::OrOp>(
        l, bad, b.create<mlir::LLVM::ICmpOp>(l, mlir::LLVM::ICmpPredicate::slt, size_values.back(), i64(0)));
  }
  mlir::Block* reject = run_ws.addBlock();
  mlir::Block* body = run_ws.addBlock();
  b.create<mlir::LLVM::CondBrOp>(l, bad, reject, body);
  b.setInsertionPointToStart(reject);
  b.create<mlir::LLVM::ReturnOp>(l, mlir::ValueRange{i32(-1)});
  b.setInsertionPointToStart(body);
  llvm::SmallVector<mlir::Value> args;
  for (size_t i = 0; i < inputs.size(); ++i)
    push_sized_descriptor(b, l, entry->getArgument(static_cast<unsigned>(first + i)), inputs[i], size_values,
                          args);
  for (size_t k = 0; k < weights.size(); ++k)
    compiler::push_descriptor(b, l, b.create<mlir::LLVM::AddressOfOp>(l, weight_globals[k]),
                              weights[k].sizes(), args);
  for (size_t i = 0; i < outputs.size(); ++i)
    push_sized_descriptor(b, l, entry->getArgument(static_cast<unsigned>(first + inputs.size() + i)),
                          outputs[i], size_values, args);
  std::vector<mlir::Value> counts;
  for (size_t c = 0; c < checks; ++c) {
    counts.push_back(b.create<mlir::LLVM::AllocaOp>(l, ptr, b.getI64Type(), i64(1), 8));
    compiler::push_descriptor(b, l, counts.back(), Shape{}, args);
  }
  compiler::push_descriptor(b, l, ws_arg, Shape{ws}, args);
  b.create<mlir::LLVM::CallOp>(l, forward, args);
  // 0, or 1 + the index of the first check that failed.
  mlir::Value result = i32(0);
  mlir::Value zero = i64(0);
  for (size_t c = checks; c-- > 0;) {
    mlir::Value count = b.create<mlir::LLVM::LoadOp>(l, b.getI64Type(), counts[c]);
    mlir::Value failed = b.create<mlir::LLVM::ICmpOp>(l, mlir::LLVM::ICmpPredicate::ne, count, zero);
    result = b.create<mlir::LLVM::SelectOp>(l, failed, i32(static_cast<int32_t>(c + 1)), result);
  }
  b.create<mlir::LLVM::ReturnOp>(l, result);

  // <name>_run(inputs..., outputs...): <name>_run_ws on the static workspace.
  b.setInsertionPointToEnd(module.getBody());
  llvm::SmallVector<mlir::Type> run_params(first - 1 + inputs.size() + outputs.size(), ptr);
  for (size_t k = 0; k < sizes.size(); ++k) run_params[k] = b.getI64Type();
  auto run = b.create<mlir::LLVM::LLVMFuncOp>(l, name + "_run",
                                              mlir::LLVM::LLVMFunctionType::get(b.getI32Type(), run_params));
  mlir::Block* run_entry = run.addEntryBlock(b);
  b.setInsertionPointToStart(run_entry);
  llvm::SmallVector<mlir::Value> forwarded{b.create<mlir::LLVM::AddressOfOp>(l, workspace)};
  for (mlir::Value a : run_entry->getArguments()) forwarded.push_back(a);
  b.create<mlir::LLVM::ReturnOp>(l, b.create<mlir::LLVM::CallOp>(l, run_ws, forwarded).getResult());

  // <name>_workspace_size(): the bytes <name>_run_ws needs.
  b.setInsertionPointToEnd(module.getBody());
  auto size = b.create<mlir::LLVM::LLVMFuncOp>(l, name + "_workspace_size",
                                               mlir::LLVM::LLVMFunctionType::get(b.getI64Type(), {}));
  b.setInsertionPointToStart(size.addEntryBlock(b));
  b.create<mlir::LLVM::ReturnOp>(l, mlir::ValueRange{i64(ws)});
}

std::string header_text(const std::string& name, const std::string& key,
                        const std::vector<ArgumentSpec>& inputs, const std::vector<ArgumentSpec>& outputs,
                        const std::vector<std::string>& checks, const std::vector<std::string>& sizes) {
  std::ostringstream h;
  std::string guard = name;
  for (char& c : guard) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  h << "// " << name << ".h - generated by ember " << kVersion << " (jit::export_graph). Do not edit.\n"
    << "//\n// Native code for one signature of a compiled function (guard key: " << key << ").\n"
    << "// Link " << name << ".o with OpenBLAS and libm:  cc main.c " << name << ".o -lopenblas -lm\n"
    << "// The weights are inside " << name << ".o. Arrays are dense and row-major.\n"
    << "//\n// Threads: " << name << "_run keeps its temporaries in one static buffer, so only one call\n"
    << "// of it may run at a time. " << name << "_run_ws takes the caller's workspace instead and is\n"
    << "// reentrant: calls on different workspaces may run at once, from any threads (the\n"
    << "// weights are read-only). " << name << "_workspace_size() is thread-safe.\n"
    << "#ifndef " << guard << "_H\n#define " << guard << "_H\n\n#include <stdbool.h>\n#include <stdint.h>\n\n"
    << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  h << "// " << name << "_run: reads the inputs, writes the outputs.\n";
  for (const std::string& size : sizes)
    h << "//   " << size << "  the size of the dims written " << size
      << " below, at least 0 (negative: returns -1\n"
      << "//       without computing anything)\n";
  for (size_t i = 0; i < inputs.size(); ++i)
    h << "//   in" << i << "  " << c_type(inputs[i].dtype) << " " << shape_text(inputs[i], sizes) << "  ("
      << inputs[i].name << ")\n";
  for (size_t i = 0; i < outputs.size(); ++i)
    h << "//   out" << i << " " << c_type(outputs[i].dtype) << " " << shape_text(outputs[i], sizes) << "  ("
      << outputs[i].name << ")\n";
  h << "// Returns 0, or k when the k-th check on the input values failed:\n";
  if (checks.empty()) h << "//   (this function checks nothing: it always returns 0)\n";
  for (size_t c = 0; c < checks.size(); ++c) h << "//   " << c + 1 << ": " << checks[c] << "\n";
  std::ostringstream params;
  std::string separator;
  for (const std::string& size : sizes) params << std::exchange(separator, ", ") << "int64_t " << size;
  for (size_t i = 0; i < inputs.size(); ++i)
    params << std::exchange(separator, ", ") << "const " << c_type(inputs[i].dtype) << "* in" << i;
  for (size_t i = 0; i < outputs.size(); ++i)
    params << std::exchange(separator, ", ") << c_type(outputs[i].dtype) << "* out" << i;
  h << "int " << name << "_run(" << params.str() << ");\n\n";
  h << "// The bytes of workspace " << name << "_run_ws needs.\n";
  h << "int64_t " << name << "_workspace_size(void);\n\n";
  h << "// " << name << "_run with the caller's workspace: at least " << name << "_workspace_size() bytes,\n"
    << "// 64-byte aligned (aligned_alloc(64, ...)); returns -1 without computing anything\n"
    << "// when it is null or misaligned, else as " << name << "_run. Its contents need no\n"
    << "// initialization and mean nothing between calls.\n";
  h << "int " << name << "_run_ws(void* workspace" << (params.str().empty() ? "" : ", ") << params.str()
    << ");\n";
  h << "\n#ifdef __cplusplus\n}\n#endif\n\n#endif  // " << guard << "_H\n";
  return h.str();
}

}  // namespace ember::jit
