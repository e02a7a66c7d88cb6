// targets.cpp - the fuzz targets and their seeds; see targets.h.
#include "targets.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../tracer/op_samples.h"
#include "ember/compiler/Pipeline.h"
#include "ember/ember.h"
#include "ember/ir/GraphToMLIR.h"
#include "ember/ir/ReadModule.h"
#include "ember/jit/export.h"
#include "ember/serialize/safetensors.h"
#include "mlir/IR/MLIRContext.h"

namespace ember::fuzz {

bool safetensors(std::string_view bytes) {
  try {
    parse_safetensors(bytes, "fuzz.safetensors");
    return true;
  } catch (const Error&) {
    return false;
  }
}

bool export_files(std::string_view bytes) {
  jit::ExportTexts files;
  std::string* parts[] = {&files.json, &files.mlir, &files.safetensors};
  for (size_t p = 0; p < 3; ++p) {
    const size_t end = p < 2 ? bytes.find(kSplit) : std::string_view::npos;
    *parts[p] = std::string(bytes.substr(0, end));
    bytes = end == std::string_view::npos ? std::string_view() : bytes.substr(end + kSplit.size());
  }
  try {
    jit::check_export_texts(files);
    return true;
  } catch (const Error&) {
    return false;
  }
}

bool ember_text(std::string_view bytes) {
  auto context = compiler::make_context();
  try {
    auto module = ir::read_ember_module(*context, bytes, "fuzz.mlir", "");
    const std::string function = ir::entry_function(*module);
    compiler::lower_to_linalg(*module, Loc::current());
    compiler::bufferize(*module, function, Loc::current());
    compiler::lower_to_llvm(*module, Loc::current());
    return true;
  } catch (const Error&) {
    return false;
  }
}

const std::vector<Target>& targets() {
  static const std::vector<Target> all = {
      {"safetensors", &safetensors}, {"export", &export_files}, {"ember_text", &ember_text}};
  return all;
}

namespace {

std::string safetensors_bytes(const nn::NamedTensors& tensors) {
  const std::string path = "/tmp/ember-fuzz-seed-" + std::to_string(::getpid()) + ".safetensors";
  save_safetensors(tensors, path);
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  std::remove(path.c_str());
  return s.str();
}

// One export of `fn` for `inputs`, its three files joined by kSplit.
std::string export_bytes(const jit::CompiledFunction& f, const std::vector<Tensor>& inputs,
                         const std::string& name, const jit::ExportOptions& options = {}) {
  const std::string dir = "/tmp/ember-fuzz-seed-" + std::to_string(::getpid()) + "-" + name;
  jit::export_graph(f, inputs, dir, options);
  std::string joined;
  for (const char* suffix : {"/model.json", "/model.mlir", "/model.safetensors"}) {
    std::ifstream in(dir + suffix, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    if (!joined.empty() || std::string(suffix) != "/model.json") joined += kSplit;
    joined += s.str();
  }
  std::filesystem::remove_all(dir);
  return joined;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> seeds(const std::string& target) {
  manual_seed(0);
  NoGradGuard no_grad;
  std::vector<std::pair<std::string, std::string>> out;
  if (target == "safetensors") {
    out.emplace_back("mixed", safetensors_bytes({{"w", randn({3, 4})},
                                                 {"b", zeros({4}, DType::Float64)},
                                                 {"i", arange(0, 6).view({2, 3})},
                                                 {"m", ones({2}, DType::Bool)},
                                                 {"n", full({}, 7, DType::Int32)}}));
    out.emplace_back("empty_tensor", safetensors_bytes({{"e", empty({0, 5})}}));
    out.emplace_back("no_tensors", safetensors_bytes({}));
  } else if (target == "export") {
    auto mlp = std::make_shared<nn::Sequential>(
        std::make_shared<nn::Linear>(6, 8), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(8, 3));
    auto f = jit::compile(
        [mlp](const std::vector<Tensor>& in) { return std::vector<Tensor>{(*mlp)(in[0]).softmax(1)}; });
    out.emplace_back("mlp", export_bytes(f, {randn({2, 6})}, "mlp"));
    auto emb = std::make_shared<nn::Embedding>(10, 4);
    auto g = jit::compile(
        [emb](const std::vector<Tensor>& in) { return std::vector<Tensor>{(*emb)(in[0]).sum(1)}; });
    out.emplace_back("embedding_with_check", export_bytes(g, {randint(0, 10, {3, 2})}, "embedding"));
    // Two named dynamic sizes (Note [Dynamic exports]).
    auto h =
        jit::compile([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].softmax(1)}; });
    out.emplace_back("two_sizes",
                     export_bytes(h, {randn({2, 5, 4})}, "two_sizes",
                                  {.name = "model", .dynamic_dims = {{0, 0, "batch"}, {0, 1, "length"}}}));
  } else if (target == "ember_text") {
    for (int i = 0; i < kNumOps; ++i) {
      const OpId op = static_cast<OpId>(i);
      const auto sample = testing::op_sample(op);
      if (!sample) continue;
      out.emplace_back(op_name(op),
                       ir::graph_to_mlir_text(testing::trace_sample(op, *sample).graph, "forward"));
    }
  }
  return out;
}

}  // namespace ember::fuzz
