// export.cpp - writing a compiled graph as model.{mlir,o,h,json,safetensors},
// and reading it back.
//
// The object file holds the pipeline's code for <name>_forward (memref
// arguments, as the JIT runs it) plus <name>_run, a wrapper built in the
// LLVM dialect that takes plain pointers: it fills in the memref
// descriptors (contiguous, row-major), passes the embedded weights and a
// static workspace, and turns the failure counts of checks into a return code.
#include "ember/jit/export.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ember/compiler/CompiledGraph.h"
#include "ember/compiler/ExternalCalls.h"
#include "ember/compiler/Pipeline.h"
#include "ember/compiler/ResultSizes.h"
#include "ember/ember.h"
#include "ember/ir/GraphToMLIR.h"
#include "ember/ir/ReadModule.h"
#include "ember/ir/TypeInference.h"
#include "ember/meta.h"
#include "ember/serialize/atomic_file.h"
#include "ember/serialize/safetensors.h"
#include "ember/tracer/dynamic.h"
#include "ember/version.h"
#include "llvm/Support/SourceMgr.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

namespace ember::jit {

namespace {

using json = nlohmann::ordered_json;
constexpr const char* kFormat = "ember-export";

// One argument of the exported function: a name, a shape and a dtype.
struct ArgumentSpec {
  std::string name;
  Shape shape;
  DType dtype;
};

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

std::string shape_text(const Shape& s) {
  std::ostringstream o;
  o << "[";
  for (int64_t i = 0; i < s.ndim(); ++i) {
    o << (i ? ", " : "");
    if (s[i] == kDynamic)
      o << "n";
    else
      o << s[i];
  }
  o << "]";
  return o.str();
}

// A shape for model.json: a dynamic dim (the size `n`) is null.
json shape_json(const Shape& s) {
  json a = json::array();
  for (int64_t d : s) a.push_back(d == kDynamic ? json(nullptr) : json(d));
  return a;
}

json describe(const std::vector<ArgumentSpec>& ts) {
  json a = json::array();
  for (const auto& t : ts)
    a.push_back({{"name", t.name}, {"shape", shape_json(t.shape)}, {"dtype", dtype_name(t.dtype)}});
  return a;
}

// A memref descriptor of a dense row-major array at `base` whose dynamic
// dims are `n`: sizes and strides computed in the entry.
void push_sized_descriptor(mlir::OpBuilder& b, mlir::Location l, mlir::Value base, const Shape& shape,
                           mlir::Value n, llvm::SmallVectorImpl<mlir::Value>& fields) {
  const auto i64 = [&](int64_t v) -> mlir::Value {
    return b.create<mlir::LLVM::ConstantOp>(l, b.getI64Type(), b.getI64IntegerAttr(v));
  };
  fields.push_back(base);
  fields.push_back(base);
  fields.push_back(i64(0));
  llvm::SmallVector<mlir::Value> sizes, strides(shape.ndim());
  for (int64_t d : shape) sizes.push_back(d == kDynamic ? n : i64(d));
  mlir::Value stride = i64(1);
  for (int64_t d = shape.ndim() - 1; d >= 0; --d) {
    strides[d] = stride;
    stride = b.create<mlir::LLVM::MulOp>(l, stride, sizes[d]);
  }
  fields.append(sizes.begin(), sizes.end());
  fields.append(strides.begin(), strides.end());
}

// <name>_run(inputs..., outputs...) -> i32 around <name>_forward, with the
// weights and the workspace as internal globals; with `dynamic`, the size
// `n` of the dynamic dims first (Note [Dynamic exports]).
void add_c_entry(mlir::ModuleOp module, const std::string& name, const std::vector<ArgumentSpec>& inputs,
                 const std::vector<Tensor>& weights, const std::vector<ArgumentSpec>& outputs, size_t checks,
                 int64_t workspace_bytes, bool dynamic, const Loc& loc) {
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

  // <name>_run_ws(workspace, [n,] inputs..., outputs...): the caller's
  // workspace, so calls on different workspaces may run at once.
  const size_t first = dynamic ? 2 : 1;  // the first array argument
  llvm::SmallVector<mlir::Type> params(first + inputs.size() + outputs.size(), ptr);
  if (dynamic) params[1] = b.getI64Type();
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
  mlir::Value n = dynamic ? entry->getArgument(1) : mlir::Value();
  if (dynamic)  // a negative size is refused like a bad workspace
    bad = b.create<mlir::LLVM::OrOp>(
        l, bad, b.create<mlir::LLVM::ICmpOp>(l, mlir::LLVM::ICmpPredicate::slt, n, i64(0)));
  mlir::Block* reject = run_ws.addBlock();
  mlir::Block* body = run_ws.addBlock();
  b.create<mlir::LLVM::CondBrOp>(l, bad, reject, body);
  b.setInsertionPointToStart(reject);
  b.create<mlir::LLVM::ReturnOp>(l, mlir::ValueRange{i32(-1)});
  b.setInsertionPointToStart(body);
  llvm::SmallVector<mlir::Value> args;
  for (size_t i = 0; i < inputs.size(); ++i)
    push_sized_descriptor(b, l, entry->getArgument(first + i), inputs[i].shape, n, args);
  for (size_t k = 0; k < weights.size(); ++k)
    compiler::push_descriptor(b, l, b.create<mlir::LLVM::AddressOfOp>(l, weight_globals[k]),
                              weights[k].sizes(), args);
  for (size_t i = 0; i < outputs.size(); ++i)
    push_sized_descriptor(b, l, entry->getArgument(first + inputs.size() + i), outputs[i].shape, n, args);
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
  if (dynamic) run_params[0] = b.getI64Type();
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
                        const std::vector<std::string>& checks, bool dynamic) {
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
  if (dynamic)
    h << "//   n   the size of the dims written n below (the batch), at least 0; a negative n\n"
      << "//       returns -1 without computing anything\n";
  for (size_t i = 0; i < inputs.size(); ++i)
    h << "//   in" << i << "  " << c_type(inputs[i].dtype) << " " << shape_text(inputs[i].shape) << "  ("
      << inputs[i].name << ")\n";
  for (size_t i = 0; i < outputs.size(); ++i)
    h << "//   out" << i << " " << c_type(outputs[i].dtype) << " " << shape_text(outputs[i].shape) << "  ("
      << outputs[i].name << ")\n";
  h << "// Returns 0, or k when the k-th check on the input values failed:\n";
  if (checks.empty()) h << "//   (this function checks nothing: it always returns 0)\n";
  for (size_t c = 0; c < checks.size(); ++c) h << "//   " << c + 1 << ": " << checks[c] << "\n";
  std::ostringstream params;
  if (dynamic) params << "int64_t n";
  for (size_t i = 0; i < inputs.size(); ++i)
    params << (i || dynamic ? ", " : "") << "const " << c_type(inputs[i].dtype) << "* in" << i;
  for (size_t i = 0; i < outputs.size(); ++i)
    params << (inputs.size() + i || dynamic ? ", " : "") << c_type(outputs[i].dtype) << "* out" << i;
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

void write_text(const std::string& path, const std::string& text, const Loc& loc) {
  write_file_atomically(
      path, [&](std::ostream& o) { o << text; }, "export_graph", loc);
}

std::string read_whole(const std::string& path, const std::string& what, const Loc& loc) {
  std::ifstream in(path, std::ios::binary);
  EMBER_CHECK(in.good(), loc, "load_export: ", path, " is missing (", what, ")");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A shape from model.json: a list of at most 8 sizes, each a non-negative
// integer (a float or a huge number is an error, never a conversion), or
// null for the size n of a dynamic export (`dynamic`).
Shape shape_of(const json& j, const std::string& file, const Loc& loc, bool dynamic) {
  EMBER_CHECK(j.is_array() && j.size() <= size_t(kMaxDims), loc, "load_export: ", file, ": shape ", j.dump(),
              " is not a list of at most ", kMaxDims, " sizes");
  Shape s;
  for (const json& d : j) {
    if (dynamic && d.is_null()) {
      s.push_back(kDynamic);
      continue;
    }
    EMBER_CHECK(d.is_number_unsigned(), loc, "load_export: ", file, ": shape ", j.dump(),
                " has an invalid size");
    EMBER_CHECK(d.get<uint64_t>() <= uint64_t(INT64_MAX), loc, "load_export: ", file, ": shape ", j.dump(),
                " has an invalid size");
    s.push_back(d.get<int64_t>());
  }
  return s;
}

DType dtype_named(const std::string& name, const std::string& file, const Loc& loc) {
  for (DType t : {DType::Bool, DType::Int32, DType::Int64, DType::Float32, DType::Float64})
    if (name == dtype_name(t)) return t;
  throw_error("load_export: " + file + " names an unknown dtype '" + name + "'", loc);
}

std::vector<ArgumentSpec> tensors_of(const json& j, const std::string& file, const Loc& loc, bool dynamic) {
  EMBER_CHECK(j.is_array(), loc, "load_export: ", file, ": ", j.dump(), " is not a list of tensors");
  std::vector<ArgumentSpec> out;
  for (const auto& t : j)
    out.push_back({t.at("name").get<std::string>(), shape_of(t.at("shape"), file, loc, dynamic),
                   dtype_named(t.at("dtype").get<std::string>(), file, loc)});
  return out;
}

// An op of a dynamic export's model.mlir with `?` dims must be one whose
// lowering takes them (read_ember_module asks).
bool admits_dynamic(mlir::Operation* op) {
  const std::optional<OpId> id = ir::op_id_of(op);
  return id && compiler::lowers_dynamic(*id);
}

// The size n of a dynamic export's call: every input dim that is n in
// model.json must be one size.
int64_t dynamic_size(const std::vector<Tensor>& in, const std::vector<ArgumentSpec>& specs, const Loc& loc) {
  int64_t n = -1;
  for (size_t i = 0; i < specs.size() && i < in.size(); ++i)
    for (int64_t d = 0; d < specs[i].shape.ndim() && d < in[i].dim(); ++d)
      if (specs[i].shape[d] == kDynamic) {
        EMBER_CHECK(n < 0 || in[i].size(d) == n, loc, "exported function: the dims of size n are ", n,
                    " and ", in[i].size(d), " (input ", i, " dim ", d, "); they must be one size");
        n = in[i].size(d);
      }
  return n;
}

class JitExport final : public LoadedExport {
 public:
  std::unique_ptr<mlir::MLIRContext> context;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  void (*entry)(void**) = nullptr;
  std::vector<ArgumentSpec> inputs, outputs;
  std::vector<Tensor> weights;
  std::vector<std::string> checks;
  int64_t workspace_bytes = 0;

  // Thread-safe: each call has its own descriptors, workspace and counts.
  std::vector<Tensor> run(const std::vector<Tensor>& in, const Loc& loc) override {
    std::vector<std::pair<Shape, DType>> types;
    for (const auto& i : inputs) types.emplace_back(i.shape, i.dtype);
    std::vector<Tensor> args;
    compiler::append_checked_inputs(in, types, "exported function", loc, args);
    for (const Tensor& w : weights) args.push_back(w);
    std::vector<Tensor> out, failures;
    const int64_t n = dynamic_size(in, inputs, loc);  // -1: a static export
    for (const auto& o : outputs) {
      Shape shape = o.shape;
      for (int64_t d = 0; d < shape.ndim(); ++d)
        if (shape[d] == kDynamic) shape[d] = n;
      out.push_back(empty(shape, o.dtype));
      args.push_back(out.back());
    }
    for (size_t c = 0; c < checks.size(); ++c) {
      failures.push_back(zeros({}, DType::Int64));
      args.push_back(failures.back());
    }
    compiler::PackedArgs packed;
    for (const Tensor& a : args) packed.add(a);
    packed.add_workspace(empty({workspace_bytes / 8 + 1}, DType::Float64), workspace_bytes);
    packed.call(entry);
    compiler::raise_failed_checks(failures, checks, "exported function", loc);
    return out;
  }
};

}  // namespace

namespace {

// Note [Dynamic exports]
// The graph of an export whose C entry takes the size n of the marked dims:
// traced again with those dims one larger, generalized (tracer/dynamic.h),
// and kept only when the two traces are one program whose dynamic dims in
// the inputs are exactly the marked ones and in the outputs all n: then n
// and the arrays' other dims are all the C caller needs. A graph that
// depends on n beyond that (a size baked into a constant, an output of 2n),
// or an op whose lowering does not take dynamic dims, is an error.
tracer::Graph dynamic_export_graph(const CompiledFunction& f, const std::vector<Tensor>& example,
                                   const tracer::Graph& traced,
                                   const std::vector<std::pair<int, int>>& marked, const Loc& loc) {
  int64_t n = -1;
  std::vector<Tensor> larger = example;
  for (const auto& [input, dim] : marked) {
    EMBER_CHECK(
        input >= 0 && input < static_cast<int>(example.size()) && dim >= 0 && dim < example[input].dim(), loc,
        "export_graph: input ", input, " has no dim ", dim, " to make dynamic");
    const int64_t size = example[input].size(dim);
    EMBER_CHECK(n < 0 || size == n, loc, "export_graph: the dynamic dims are one size n (", n, " and ", size,
                " here)");
    n = size;
  }
  for (size_t i = 0; i < larger.size(); ++i) {
    Shape shape = larger[i].sizes();
    bool changed = false;
    for (const auto& [input, dim] : marked)
      if (input == static_cast<int>(i)) shape[dim] = n + 1, changed = true;
    if (changed) larger[i] = zeros(shape, larger[i].dtype());
  }
  std::string why;
  auto general = tracer::generalize(traced, f.graph_for(larger, loc).first, &why);
  EMBER_CHECK(general.has_value(), loc, "export_graph: the function is not one program at every n: ", why);
  for (size_t i = 0; i < traced.inputs.size(); ++i)
    for (int64_t d = 0; d < traced.values[traced.inputs[i]].shape.ndim(); ++d) {
      const bool is_dynamic = general->graph.values[traced.inputs[i]].shape[d] == kDynamic;
      const bool is_marked =
          std::find(marked.begin(), marked.end(),
                    std::pair<int, int>(static_cast<int>(i), static_cast<int>(d))) != marked.end();
      EMBER_CHECK(is_dynamic == is_marked, loc, "export_graph: input ", i, " dim ", d,
                  is_marked ? " is marked dynamic but did not change" : " changed but is not marked dynamic");
    }
  for (size_t k = 0; k < traced.outputs.size(); ++k)
    for (int64_t d = 0; d < traced.values[traced.outputs[k]].shape.ndim(); ++d)
      EMBER_CHECK(general->graph.values[traced.outputs[k]].shape[d] != kDynamic ||
                      traced.values[traced.outputs[k]].shape[d] == n,
                  loc, "export_graph: output ", k, " dim ", d, " follows n but is not n (",
                  traced.values[traced.outputs[k]].shape[d], " at n = ", n, ")");
  compiler::check_dynamic_lowerings(general->graph, "export_graph", loc);
  return general->graph;
}

}  // namespace

std::vector<std::string> export_graph(const CompiledFunction& f, const std::vector<Tensor>& example_inputs,
                                      const std::string& dir, const ExportOptions& options, const Loc& loc) {
  auto [traced, key] = f.graph_for(example_inputs, loc);
  const bool dynamic = !options.dynamic_dims.empty();
  const tracer::Graph graph =
      dynamic ? dynamic_export_graph(f, example_inputs, traced, options.dynamic_dims, loc) : traced;
  EMBER_CHECK(graph.writebacks.empty() && graph.grad_writes.empty(), loc,
              "export_graph: the function writes into tensors (", graph.writebacks.size(), " write-backs, ",
              graph.grad_writes.size(),
              " .grad updates), as a training step does; export a function without side effects");
  const std::string& name = options.name;
  const std::string function = name + "_forward";
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  EMBER_CHECK(!error, loc, "export_graph: cannot create ", dir, ": ", error.message());

  std::vector<ArgumentSpec> inputs, outputs, weight_names;
  for (size_t i = 0; i < graph.inputs.size(); ++i) {
    const auto& v = graph.values[graph.inputs[i]];
    inputs.push_back({"input " + std::to_string(i), v.shape, v.dtype});
  }
  for (size_t i = 0; i < graph.outputs.size(); ++i) {
    const auto& v = graph.values[graph.outputs[i]];
    outputs.push_back({"output " + std::to_string(i), v.shape, v.dtype});
  }
  nn::NamedTensors weights;
  for (size_t k = 0; k < graph.captured.size(); ++k) {
    weights.emplace_back("captured " + std::to_string(k), graph.captured[k].contiguous());
    weight_names.push_back({weights.back().first, graph.captured[k].sizes(), graph.captured[k].dtype()});
  }

  auto context = compiler::make_context();
  mlir::OwningOpRef<mlir::ModuleOp> module = ir::graph_to_mlir(*context, graph, function);
  const std::string base = (std::filesystem::path(dir) / name).string();
  const std::string mlir_text = ir::to_text(*module);
  compiler::lower_to_linalg(*module, loc);
  compiler::bufferize(*module, function, loc);
  const int64_t workspace_bytes = compiler::workspace_bytes(*module, function);
  const std::vector<std::string> checks = compiler::check_messages(*module, function);
  compiler::lower_to_llvm(*module, loc, /*parallel_loops=*/false);  // no OpenMP runtime in an export
  // Note [External calls]: what the code calls must be linkable without ember.
  const std::vector<std::string> unexportable = compiler::unexportable_calls(*module);
  EMBER_CHECK(unexportable.empty(), loc, "export_graph: the compiled function calls ",
              unexportable.empty() ? "" : unexportable.front());
  add_c_entry(*module, name, inputs, graph.captured, outputs, checks.size(), workspace_bytes, dynamic, loc);
  const std::string object = compiler::object_code(*module, loc);

  json j;
  j["format"] = kFormat;
  j["ember_version"] = kVersion;
  j["name"] = name;
  j["entry"] = name + "_run";
  j["guard_key"] = key;
  if (dynamic) j["dynamic_size"] = "n";  // the entry's first argument; null dims in the shapes below
  j["inputs"] = describe(inputs);
  j["outputs"] = describe(outputs);
  j["weights"] = describe(weight_names);
  j["checks"] = checks;
  j["workspace_bytes"] = workspace_bytes;

  write_text(base + ".mlir", mlir_text, loc);
  write_file_atomically(
      base + ".o",
      [&](std::ostream& o) { o.write(object.data(), static_cast<std::streamsize>(object.size())); },
      "export_graph", loc);
  write_text(base + ".h", header_text(name, key, inputs, outputs, checks, dynamic), loc);
  save_safetensors(weights, base + ".safetensors", {{"format", kFormat}, {"ember_version", kVersion}}, loc);
  write_text(base + ".json", j.dump(2) + "\n", loc);  // last: a complete export has its json
  return {base + ".mlir", base + ".o", base + ".h", base + ".safetensors", base + ".json"};
}

namespace {

// The element type ember uses for a dtype, as MLIR prints it.
mlir::Type element_of(mlir::MLIRContext& ctx, DType t) {
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

// Everything load_export does before making machine code: the three
// files checked against each other, the graph lowered to the LLVM dialect.
struct CheckedExport {
  std::unique_ptr<mlir::MLIRContext> context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::string function;
  std::vector<ArgumentSpec> inputs, outputs;
  std::vector<Tensor> weights;
  std::vector<std::string> checks;
  int64_t workspace_bytes = 0;
};

CheckedExport check_export(const ExportTexts& files, const ExportOptions& options, const Loc& loc) {
  const std::string& json_path = files.json_name;
  const std::string& weights_path = files.safetensors_name;
  const std::string& mlir_path = files.mlir_name;
  CheckedExport result;
  json j;
  try {
    j = json::parse(files.json);
  } catch (const json::exception& e) {
    throw_error("load_export: " + json_path + " is not valid JSON (truncated?): " + e.what(), loc);
  }
  std::vector<ArgumentSpec> weights;
  bool dynamic = false;
  try {
    EMBER_CHECK(j.is_object() && j.value("format", "") == kFormat, loc, "load_export: ", json_path,
                " is not an ember export");
    const std::string version = j.value("ember_version", "?");
    EMBER_CHECK(version == kVersion, loc, "load_export: ", json_path, " was written by ember ", version,
                "; this is ember ", kVersion, ": export it again");
    dynamic = j.contains("dynamic_size");
    EMBER_CHECK(!dynamic || j.at("dynamic_size") == "n", loc, "load_export: ", json_path,
                ": dynamic_size must be \"n\"");
    result.inputs = tensors_of(j.at("inputs"), json_path, loc, dynamic);
    result.outputs = tensors_of(j.at("outputs"), json_path, loc, dynamic);
    result.checks = j.at("checks").get<std::vector<std::string>>();
    weights = tensors_of(j.at("weights"), json_path, loc, false);
  } catch (const json::exception& e) {
    throw_error("load_export: " + json_path + " lacks a field or has a wrong one: " + e.what(), loc);
  }
  const nn::NamedTensors stored = parse_safetensors(files.safetensors, weights_path, loc);
  for (const auto& w : weights) {
    auto it = std::find_if(stored.begin(), stored.end(), [&](const auto& p) { return p.first == w.name; });
    EMBER_CHECK(it != stored.end(), loc, "load_export: ", weights_path, " has no tensor '", w.name, "'");
    EMBER_CHECK(it->second.sizes() == w.shape && it->second.dtype() == w.dtype, loc,
                "load_export: ", weights_path, ": '", w.name, "' is ",
                tracer::type_string(it->second.sizes(), it->second.dtype()), ", ", json_path, " says ",
                tracer::type_string(w.shape, w.dtype));
    result.weights.push_back(it->second);
  }

  result.context = compiler::make_context();
  result.function = options.name + "_forward";
  try {
    result.module = ir::read_ember_module(*result.context, files.mlir, mlir_path, result.function, loc,
                                          dynamic ? &admits_dynamic : nullptr);
  } catch (const Error& e) {
    throw_error(std::string("load_export: ") + e.what(), loc);
  }
  // The function must take and return what model.json says: the runner
  // passes exactly those buffers (Note [Modules from files]).
  mlir::MLIRContext& ctx = *result.context;
  auto f = result.module->lookupSymbol<mlir::func::FuncOp>(result.function);
  const auto expect_types = [&](mlir::TypeRange got, const std::vector<const ArgumentSpec*>& want,
                                const char* what) {
    EMBER_CHECK(got.size() == want.size(), loc, "load_export: ", mlir_path, "'s function has ", got.size(),
                " ", what, "; ", json_path, " lists ", want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      const auto type =
          mlir::RankedTensorType::get(llvm::ArrayRef<int64_t>(want[i]->shape.begin(), want[i]->shape.end()),
                                      element_of(ctx, want[i]->dtype));
      EMBER_CHECK(got[i] == type, loc, "load_export: ", mlir_path, "'s function: ", what, " ", i, " is not ",
                  tracer::type_string(want[i]->shape, want[i]->dtype), " as ", json_path, " says");
    }
  };
  std::vector<const ArgumentSpec*> arguments, results;
  for (const auto& a : result.inputs) arguments.push_back(&a);
  for (const auto& w : weights) arguments.push_back(&w);
  for (const auto& o : result.outputs) results.push_back(&o);
  expect_types(f.getFunctionType().getInputs(), arguments, "arguments");
  expect_types(f.getFunctionType().getResults(), results, "results");

  compiler::lower_to_linalg(*result.module, loc);
  if (dynamic)  // Note [Sizes of a loaded export's results]
    for (const compiler::ResultDim& r : compiler::dynamic_result_dims(*result.module, result.function))
      EMBER_CHECK(r.argument >= 0 && size_t(r.argument) < result.inputs.size() &&
                      result.inputs[size_t(r.argument)].shape[r.argument_dim] == kDynamic,
                  loc, "load_export: ", mlir_path, "'s result ", r.result, " dim ", r.dim,
                  " is not provably a dynamic dim of an input, as ", json_path,
                  " says (n); its size would not be known before the call");
  compiler::bufferize(*result.module, result.function, loc);
  // The messages are model.json's (they name the user's lines, which
  // model.mlir does not keep); the count must be the module's.
  const size_t made = compiler::check_messages(*result.module, result.function).size();
  EMBER_CHECK(made == result.checks.size(), loc, "load_export: ", json_path, " lists ", result.checks.size(),
              " checks but ", mlir_path, " makes ", made);
  EMBER_CHECK(compiler::in_place_results(*result.module, result.function).empty(), loc,
              "load_export: ", mlir_path, " writes into its arguments, which an export never does");
  result.workspace_bytes = compiler::workspace_bytes(*result.module, result.function);
  compiler::lower_to_llvm(*result.module, loc);
  return result;
}

}  // namespace

void check_export_texts(const ExportTexts& files, const ExportOptions& options, const Loc& loc) {
  check_export(files, options, loc);
}

std::unique_ptr<LoadedExport> load_export(const std::string& dir, const ExportOptions& options,
                                          const Loc& loc) {
  const std::string base = (std::filesystem::path(dir) / options.name).string();
  ExportTexts files;
  files.json_name = base + ".json";
  files.mlir_name = base + ".mlir";
  files.safetensors_name = base + ".safetensors";
  files.json = read_whole(files.json_name, "the signature", loc);
  files.mlir = read_whole(files.mlir_name, "the graph", loc);
  files.safetensors = read_whole(files.safetensors_name, "the weights", loc);
  CheckedExport checked = check_export(files, options, loc);
  auto result = std::make_unique<JitExport>();
  result->context = std::move(checked.context);
  result->inputs = std::move(checked.inputs);
  result->outputs = std::move(checked.outputs);
  result->weights = std::move(checked.weights);
  result->checks = std::move(checked.checks);
  result->workspace_bytes = checked.workspace_bytes;
  result->engine = compiler::jit(*checked.module, loc);
  auto entry = result->engine->lookupPacked("_mlir_ciface_" + checked.function);
  EMBER_CHECK(static_cast<bool>(entry), loc, "load_export: no entry point for @", checked.function);
  result->entry = *entry;
  return result;
}

}  // namespace ember::jit
