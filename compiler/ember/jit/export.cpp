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
#include "ember/jit/export_c.h"
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

// A shape for model.json: a dynamic dim is its size's name.
json shape_json(const ArgumentSpec& t, const std::vector<std::string>& sizes) {
  json a = json::array();
  for (int64_t d = 0; d < t.shape.ndim(); ++d)
    a.push_back(t.size_index(d) >= 0 ? json(sizes[size_t(t.size_index(d))]) : json(t.shape[d]));
  return a;
}

json describe(const std::vector<ArgumentSpec>& ts, const std::vector<std::string>& sizes) {
  json a = json::array();
  for (const auto& t : ts)
    a.push_back({{"name", t.name}, {"shape", shape_json(t, sizes)}, {"dtype", dtype_name(t.dtype)}});
  return a;
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

// A tensor's shape from model.json: a list of at most 8 sizes, each a
// non-negative integer (a float or a huge number is an error, never a
// conversion) or the name of one of the export's dynamic `sizes`.
void read_shape(const json& j, const std::string& file, const Loc& loc, const std::vector<std::string>& sizes,
                ArgumentSpec& t) {
  EMBER_CHECK(j.is_array() && j.size() <= size_t(kMaxDims), loc, "load_export: ", file, ": shape ", j.dump(),
              " is not a list of at most ", kMaxDims, " sizes");
  for (const json& d : j) {
    if (d.is_string()) {
      const auto named = std::find(sizes.begin(), sizes.end(), d.get<std::string>());
      EMBER_CHECK(named != sizes.end(), loc, "load_export: ", file, ": shape ", j.dump(), " names ", d.dump(),
                  ", which is not one of its dynamic_sizes");
      t.size_of.resize(size_t(t.shape.ndim()), -1);
      t.size_of.push_back(static_cast<int>(named - sizes.begin()));
      t.shape.push_back(kDynamic);
      continue;
    }
    EMBER_CHECK(d.is_number_unsigned(), loc, "load_export: ", file, ": shape ", j.dump(),
                " has an invalid size");
    EMBER_CHECK(d.get<uint64_t>() <= uint64_t(INT64_MAX), loc, "load_export: ", file, ": shape ", j.dump(),
                " has an invalid size");
    t.shape.push_back(d.get<int64_t>());
  }
  if (!t.size_of.empty()) t.size_of.resize(size_t(t.shape.ndim()), -1);
}

DType dtype_named(const std::string& name, const std::string& file, const Loc& loc) {
  for (DType t : {DType::Bool, DType::Int32, DType::Int64, DType::Float32, DType::Float64})
    if (name == dtype_name(t)) return t;
  throw_error("load_export: " + file + " names an unknown dtype '" + name + "'", loc);
}

std::vector<ArgumentSpec> tensors_of(const json& j, const std::string& file, const Loc& loc,
                                     const std::vector<std::string>& sizes) {
  EMBER_CHECK(j.is_array(), loc, "load_export: ", file, ": ", j.dump(), " is not a list of tensors");
  std::vector<ArgumentSpec> out;
  for (const auto& t : j) {
    ArgumentSpec spec{t.at("name").get<std::string>(),
                      Shape{},
                      dtype_named(t.at("dtype").get<std::string>(), file, loc),
                      {}};
    read_shape(t.at("shape"), file, loc, sizes, spec);
    out.push_back(std::move(spec));
  }
  return out;
}

// model.json's "dynamic_sizes": distinct names of C parameters (none: a
// static export).
std::vector<std::string> sizes_of(const json& j, const std::string& file, const Loc& loc) {
  if (!j.contains("dynamic_sizes")) return {};
  const auto sizes = j.at("dynamic_sizes").get<std::vector<std::string>>();
  EMBER_CHECK(sizes.size() <= size_t(kMaxDims), loc, "load_export: ", file, ": more than ", kMaxDims,
              " dynamic_sizes");
  for (size_t k = 0; k < sizes.size(); ++k)
    EMBER_CHECK(valid_size_name(sizes[k]) && std::count(sizes.begin(), sizes.end(), sizes[k]) == 1, loc,
                "load_export: ", file, ": dynamic size '", sizes[k],
                "' is not a distinct C name (and not in0, out0, workspace)");
  return sizes;
}

// An op of a dynamic export's model.mlir with `?` dims must be one whose
// lowering takes them (read_ember_module asks).
bool admits_dynamic(mlir::Operation* op) {
  const std::optional<OpId> id = ir::op_id_of(op);
  return id && compiler::lowers_dynamic(*id);
}

// The dynamic sizes of a call, from its inputs: the dims of one name must
// be one size.
std::vector<int64_t> call_sizes(const std::vector<Tensor>& in, const std::vector<ArgumentSpec>& specs,
                                const std::vector<std::string>& sizes, const Loc& loc) {
  std::vector<int64_t> n(sizes.size(), -1);
  for (size_t i = 0; i < specs.size() && i < in.size(); ++i)
    for (int64_t d = 0; d < specs[i].shape.ndim() && d < in[i].dim(); ++d)
      if (const int k = specs[i].size_index(d); k >= 0) {
        int64_t& size = n[size_t(k)];
        EMBER_CHECK(size < 0 || in[i].size(d) == size, loc, "exported function: the dims of size ",
                    sizes[size_t(k)], " are ", size, " and ", in[i].size(d), " (input ", i, " dim ", d,
                    "); they must be one size");
        size = in[i].size(d);
      }
  return n;
}

// The dynamic dims of `function`'s results, each proven a dynamic dim of an
// input (Note [Sizes of a loaded export's results]), written into the
// output specs as that input dim's size; `what` names the caller.
void size_results(mlir::ModuleOp module, const std::string& function, const std::vector<ArgumentSpec>& inputs,
                  std::vector<ArgumentSpec>& outputs, const std::string& what, const Loc& loc) {
  for (const compiler::ResultDim& r : compiler::dynamic_result_dims(module, function)) {
    const bool proven = r.argument >= 0 && size_t(r.argument) < inputs.size() &&
                        inputs[size_t(r.argument)].size_index(r.argument_dim) >= 0;
    EMBER_CHECK(proven && r.result < outputs.size(), loc, what, ": output ", r.result, " dim ", r.dim,
                " is not provably a dynamic dim of an input; its size would not be known before the call");
    ArgumentSpec& out = outputs[r.result];
    const int size = inputs[size_t(r.argument)].size_index(r.argument_dim);
    if (out.size_of.empty()) out.size_of.assign(size_t(out.shape.ndim()), -1);
    EMBER_CHECK(out.size_of[size_t(r.dim)] < 0 || out.size_of[size_t(r.dim)] == size, loc, what, ": output ",
                r.result, " dim ", r.dim, " is input ", r.argument, "'s dim ", r.argument_dim,
                ", not the size the signature names");
    out.size_of[size_t(r.dim)] = size;
  }
}

class JitExport final : public LoadedExport {
 public:
  std::unique_ptr<mlir::MLIRContext> context;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  void (*entry)(void**) = nullptr;
  std::vector<ArgumentSpec> inputs, outputs;
  std::vector<std::string> sizes;  // the dynamic sizes' names
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
    const std::vector<int64_t> n = call_sizes(in, inputs, sizes, loc);
    for (const auto& o : outputs) {
      Shape shape = o.shape;
      for (int64_t d = 0; d < shape.ndim(); ++d)
        if (o.size_index(d) >= 0) shape[d] = n[size_t(o.size_index(d))];
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

// The graph of an export with dynamic dims (Note [Dynamic exports]): traced
// again with the dims of size k made k + 1 larger (distinct steps, so no two
// sizes move alike), generalized (tracer/dynamic.h), and kept only when the
// two traces are one program whose dynamic input dims are exactly the
// marked ones. A graph that depends on a size beyond that (a size baked
// into a constant), or an op whose lowering does not take dynamic dims, is
// an error. `size_of` gets each input dim's size index (-1: static).
tracer::Graph dynamic_export_graph(const CompiledFunction& f, const std::vector<Tensor>& example,
                                   const tracer::Graph& traced, const std::vector<DynamicDim>& marked,
                                   const std::vector<std::string>& sizes,
                                   std::vector<std::vector<int>>& size_of, const Loc& loc) {
  std::vector<int64_t> n(sizes.size(), -1);
  size_of.assign(example.size(), {});
  for (size_t i = 0; i < example.size(); ++i) size_of[i].assign(size_t(example[i].dim()), -1);
  for (const DynamicDim& m : marked) {
    EMBER_CHECK(m.input >= 0 && m.input < static_cast<int>(example.size()) && m.dim >= 0 &&
                    m.dim < example[size_t(m.input)].dim(),
                loc, "export_graph: input ", m.input, " has no dim ", m.dim, " to make dynamic");
    const size_t k = size_t(std::find(sizes.begin(), sizes.end(), m.size) - sizes.begin());
    const int64_t size = example[size_t(m.input)].size(m.dim);
    EMBER_CHECK(n[k] < 0 || size == n[k], loc, "export_graph: the dims of size ", m.size, " are one size (",
                n[k], " and ", size, " here)");
    n[k] = size;
    size_of[size_t(m.input)][size_t(m.dim)] = static_cast<int>(k);
  }
  std::vector<Tensor> larger = example;
  for (size_t i = 0; i < larger.size(); ++i) {
    Shape shape = larger[i].sizes();
    bool changed = false;
    for (int64_t d = 0; d < shape.ndim(); ++d)
      if (const int k = size_of[i][size_t(d)]; k >= 0) shape[d] = n[size_t(k)] + k + 1, changed = true;
    if (changed) larger[i] = zeros(shape, larger[i].dtype());
  }
  std::string why;
  auto general = tracer::generalize(traced, f.graph_for(larger, loc).first, &why);
  EMBER_CHECK(general.has_value(), loc, "export_graph: the function is not one program at every size: ", why);
  for (size_t i = 0; i < traced.inputs.size(); ++i)
    for (int64_t d = 0; d < traced.values[traced.inputs[i]].shape.ndim(); ++d) {
      const bool is_dynamic = general->graph.values[traced.inputs[i]].shape[d] == kDynamic;
      const bool is_marked = size_of[i][size_t(d)] >= 0;
      EMBER_CHECK(is_dynamic == is_marked, loc, "export_graph: input ", i, " dim ", d,
                  is_marked ? " is marked dynamic but did not change" : " changed but is not marked dynamic");
    }
  compiler::check_dynamic_lowerings(general->graph, "export_graph", loc);
  return general->graph;
}

// The names of the sizes of `marked`, in the order of first naming.
std::vector<std::string> size_names(const std::vector<DynamicDim>& marked, const Loc& loc) {
  std::vector<std::string> sizes;
  for (const DynamicDim& m : marked) {
    EMBER_CHECK(valid_size_name(m.size), loc, "export_graph: '", m.size,
                "' cannot name a size: it must be a C name, and not in0, out0 or workspace");
    if (std::find(sizes.begin(), sizes.end(), m.size) == sizes.end()) sizes.push_back(m.size);
  }
  return sizes;
}

}  // namespace

std::vector<std::string> export_graph(const CompiledFunction& f, const std::vector<Tensor>& example_inputs,
                                      const std::string& dir, const ExportOptions& options, const Loc& loc) {
  auto [traced, key] = f.graph_for(example_inputs, loc);
  const std::vector<std::string> sizes = size_names(options.dynamic_dims, loc);
  std::vector<std::vector<int>> input_sizes(example_inputs.size());
  const tracer::Graph graph =
      sizes.empty()
          ? traced
          : dynamic_export_graph(f, example_inputs, traced, options.dynamic_dims, sizes, input_sizes, loc);
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
    inputs.push_back({"input " + std::to_string(i), v.shape, v.dtype,
                      i < input_sizes.size() ? input_sizes[i] : std::vector<int>{}});
  }
  for (size_t i = 0; i < graph.outputs.size(); ++i) {
    const auto& v = graph.values[graph.outputs[i]];
    outputs.push_back({"output " + std::to_string(i), v.shape, v.dtype, {}});
  }
  nn::NamedTensors weights;
  for (size_t k = 0; k < graph.captured.size(); ++k) {
    weights.emplace_back("captured " + std::to_string(k), graph.captured[k].contiguous());
    weight_names.push_back({weights.back().first, graph.captured[k].sizes(), graph.captured[k].dtype(), {}});
  }

  auto context = compiler::make_context();
  mlir::OwningOpRef<mlir::ModuleOp> module = ir::graph_to_mlir(*context, graph, function);
  const std::string base = (std::filesystem::path(dir) / name).string();
  const std::string mlir_text = ir::to_text(*module);
  compiler::lower_to_linalg(*module, loc);
  if (!sizes.empty()) size_results(*module, function, inputs, outputs, "export_graph", loc);
  compiler::bufferize(*module, function, loc);
  const int64_t workspace_bytes = compiler::workspace_bytes(*module, function);
  const std::vector<std::string> checks = compiler::check_messages(*module, function);
  compiler::lower_to_llvm(*module, loc, /*parallel_loops=*/false);  // no OpenMP runtime in an export
  // Note [External calls]: what the code calls must be linkable without ember.
  const std::vector<std::string> unexportable = compiler::unexportable_calls(*module);
  EMBER_CHECK(unexportable.empty(), loc, "export_graph: the compiled function calls ",
              unexportable.empty() ? "" : unexportable.front());
  add_c_entry(*module, name, inputs, graph.captured, outputs, checks.size(), workspace_bytes, sizes, loc);
  const std::string object = compiler::object_code(*module, loc);

  json j;
  j["format"] = kFormat;
  j["ember_version"] = kVersion;
  j["name"] = name;
  j["entry"] = name + "_run";
  j["guard_key"] = key;
  if (!sizes.empty()) j["dynamic_sizes"] = sizes;  // the entry's first arguments, named in the shapes below
  j["inputs"] = describe(inputs, sizes);
  j["outputs"] = describe(outputs, sizes);
  j["weights"] = describe(weight_names, {});
  j["checks"] = checks;
  j["workspace_bytes"] = workspace_bytes;

  write_text(base + ".mlir", mlir_text, loc);
  write_file_atomically(
      base + ".o",
      [&](std::ostream& o) { o.write(object.data(), static_cast<std::streamsize>(object.size())); },
      "export_graph", loc);
  write_text(base + ".h", header_text(name, key, inputs, outputs, checks, sizes), loc);
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
  std::vector<std::string> sizes;
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
  try {
    EMBER_CHECK(j.is_object() && j.value("format", "") == kFormat, loc, "load_export: ", json_path,
                " is not an ember export");
    const std::string version = j.value("ember_version", "?");
    EMBER_CHECK(version == kVersion, loc, "load_export: ", json_path, " was written by ember ", version,
                "; this is ember ", kVersion, ": export it again");
    result.sizes = sizes_of(j, json_path, loc);
    result.inputs = tensors_of(j.at("inputs"), json_path, loc, result.sizes);
    result.outputs = tensors_of(j.at("outputs"), json_path, loc, result.sizes);
    result.checks = j.at("checks").get<std::vector<std::string>>();
    weights = tensors_of(j.at("weights"), json_path, loc, {});
  } catch (const json::exception& e) {
    throw_error("load_export: " + json_path + " lacks a field or has a wrong one: " + e.what(), loc);
  }
  const bool dynamic = !result.sizes.empty();
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
  if (dynamic)  // Note [Sizes of a loaded export's results]: json's names, proven
    size_results(*result.module, result.function, result.inputs, result.outputs,
                 "load_export: " + mlir_path + " against " + json_path, loc);
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
  result->sizes = std::move(checked.sizes);
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
