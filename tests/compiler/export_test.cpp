// export_test.cpp - jit::export_graph: the files, a plain C program built
// against model.h + model.o with the system C compiler (its outputs against
// eager ember), and load_export's errors for missing, truncated and
// other-version files.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ember/ember.h"
#include "ember/jit/export.h"
#include "models.h"

namespace ember::jit {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_raw(const fs::path& p, const Tensor& t) {
  std::ofstream out(p, std::ios::binary);
  out.write(static_cast<const char*>(t.contiguous().data_ptr()),
            static_cast<std::streamsize>(t.numel() * t.itemsize()));
}

int run(const std::string& command) { return std::system((command + " > /dev/null 2>&1").c_str()); }

// Writes `source` as dir/main.c and builds it against dir/model.o with the
// system C compiler; returns the program's path (empty when the build failed).
std::string build_c_program(const fs::path& dir, const std::string& source, const std::string& flags = "") {
  std::ofstream(dir / "main.c") << source;
  const std::string exe = (dir / "main").string();
  const std::string build = "cc -O2 " + flags + " -o " + exe + " " + (dir / "main.c").string() + " " +
                            (dir / "model.o").string() + " " EMBER_OPENBLAS_LIBRARY " -lm -Wl,-rpath," +
                            fs::path(EMBER_OPENBLAS_LIBRARY).parent_path().string();
  return run(build) == 0 ? exe : std::string();
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("ember-export-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

using testing::small_mlp;

// A C program that reads in0 from a file, calls model_run, writes out0.
constexpr const char* kMain = R"(#include <stdio.h>
#include "model.h"
static float in0[%IN%], out0[%OUT%];
int main(int argc, char** argv) {
  FILE* f = fopen(argv[1], "rb");
  if (!f || fread(in0, sizeof in0, 1, f) != 1) return 10;
  fclose(f);
  int rc = model_run(in0, out0);
  f = fopen(argv[2], "wb");
  fwrite(out0, sizeof out0, 1, f);
  fclose(f);
  return rc;
}
)";

std::string main_source(int64_t in, int64_t out) {
  std::string s = kMain;
  s.replace(s.find("%IN%"), 4, std::to_string(in));
  s.replace(s.find("%OUT%"), 5, std::to_string(out));
  return s;
}

// Exports `f` for `x`, builds the C program and returns its output.
Tensor run_exported_c(const CompiledFunction& f, const Tensor& x, const Shape& out_shape,
                      const fs::path& dir) {
  const auto files = export_graph(f, {x}, dir.string());
  EXPECT_EQ(files.size(), 5u);
  for (const auto& file : files) EXPECT_TRUE(fs::exists(file)) << file;
  const std::string exe = build_c_program(dir, main_source(x.numel(), out_shape.numel()));
  EXPECT_FALSE(exe.empty()) << "the C program did not build in " << dir;
  write_raw(dir / "in.bin", x);
  EXPECT_EQ(run(exe + " " + (dir / "in.bin").string() + " " + (dir / "out.bin").string()), 0);
  const std::string bytes = slurp(dir / "out.bin");
  EXPECT_EQ(bytes.size(), static_cast<size_t>(out_shape.numel()) * 4);
  Tensor out = empty(out_shape);
  std::memcpy(out.data_ptr(), bytes.data(), std::min<size_t>(bytes.size(), out.numel() * 4));
  return out;
}

void expect_close(const Tensor& got, const Tensor& want, double tol) {
  const auto g = got.to_vector<double>(), w = want.to_vector<double>();
  ASSERT_EQ(g.size(), w.size());
  for (size_t i = 0; i < g.size(); ++i)
    ASSERT_NEAR(g[i], w[i], tol * (1 + std::abs(w[i]))) << "element " << i;
}

TEST(Export, AnMlpRunsAsAPlainCProgramAndMatchesEager) {
  manual_seed(21);
  auto model = small_mlp();
  NoGradGuard no_grad;
  auto f = compile(
      [model](const std::vector<Tensor>& in) { return std::vector<Tensor>{(*model)(in[0]).softmax(-1)}; });
  const Tensor x = randn({16, 20});
  const Tensor want = (*model)(x).softmax(-1);
  const fs::path dir = fresh_dir("mlp");
  expect_close(run_exported_c(f, x, {16, 10}, dir), want, 1e-5);
  // The header documents the signature; the json has it too.
  const std::string header = slurp(dir / "model.h");
  EXPECT_NE(header.find("int model_run(const float* in0, float* out0);"), std::string::npos) << header;
  EXPECT_NE(header.find("in0  float [16, 20]"), std::string::npos) << header;
  const std::string json = slurp(dir / "model.json");
  EXPECT_NE(json.find("\"ember_version\": \"" + std::string(EMBER_VERSION) + "\""), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"guard_key\""), std::string::npos);
  // model.mlir parses back with ember-opt.
  EXPECT_EQ(run(std::string(EMBER_OPT_PATH) + " " + (dir / "model.mlir").string()), 0);
  // And load_export compiles it back into ember, with the weights from safetensors.
  auto loaded = load_export(dir.string());
  expect_close(loaded->run({x})[0], want, 1e-5);
  fs::remove_all(dir);
}

// model_run_ws from four C threads, each with its own workspace, 3,000
// calls each on its own input: every result bit for bit the one a single
// call gives, and that one matches eager ember. A null or misaligned
// workspace is refused with -1.
constexpr const char* kThreadsMain = R"(#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"
enum { kThreads = 4, kCalls = 3000, kIn = %IN%, kOut = %OUT% };
static float in[kThreads][kIn], want[kThreads][kOut];
static int wrong[kThreads];
static void* work(void* arg) {
  const int t = (int)(long)arg;
  void* ws = aligned_alloc(64, (size_t)((model_workspace_size() + 63) / 64 * 64));
  float out[kOut];
  for (int i = 0; i < kCalls; ++i)
    if (model_run_ws(ws, in[t], out) != 0 || memcmp(out, want[t], sizeof out) != 0) ++wrong[t];
  free(ws);
  return 0;
}
int main(int argc, char** argv) {
  FILE* f = fopen(argv[1], "rb");
  if (!f || fread(in, sizeof in, 1, f) != 1) return 10;
  fclose(f);
  void* ws = aligned_alloc(64, (size_t)((model_workspace_size() + 63) / 64 * 64));
  for (int t = 0; t < kThreads; ++t)
    if (model_run_ws(ws, in[t], want[t]) != 0) return 11;
  if (model_run_ws(0, in[0], want[0]) != -1 || model_run_ws((char*)ws + 4, in[0], want[0]) != -1) return 12;
  free(ws);
  pthread_t threads[kThreads];
  for (long t = 0; t < kThreads; ++t) pthread_create(&threads[t], 0, work, (void*)t);
  int total = 0;
  for (int t = 0; t < kThreads; ++t) {
    pthread_join(threads[t], 0);
    total += wrong[t];
  }
  f = fopen(argv[2], "wb");
  fwrite(want, sizeof want, 1, f);
  fclose(f);
  printf("%d wrong\n", total);
  return total != 0 ? 13 : 0;
}
)";

// Note [Dynamic exports]: one object for every batch: the C program passes n.
constexpr const char* kDynamicMain = R"(#include <stdio.h>
#include <stdlib.h>
#include "model.h"
int main(int argc, char** argv) {
  const long n = atol(argv[1]);
  float* in0 = malloc(sizeof(float) * 20 * (n ? n : 1));
  float* out0 = malloc(sizeof(float) * 10 * (n ? n : 1));
  FILE* f = fopen(argv[2], "rb");
  if (!f || (n && fread(in0, sizeof(float) * 20 * n, 1, f) != 1)) return 10;
  fclose(f);
  if (model_run(-1, in0, out0) != -1) return 11;  /* a negative size is refused */
  int rc = model_run(n, in0, out0);
  f = fopen(argv[3], "wb");
  fwrite(out0, sizeof(float) * 10 * n, 1, f);
  fclose(f);
  return rc;
}
)";

TEST(Export, ADynamicBatchExportsOnceAndRunsFromCAtAnySize) {
  auto model = small_mlp();
  auto f =
      compile([model](const std::vector<Tensor>& in) { return std::vector<Tensor>{(*model)(in[0]).relu()}; });
  const fs::path dir = fresh_dir("dynamic");
  const auto files =
      export_graph(f, {randn({8, 20})}, dir.string(), {.name = "model", .dynamic_dims = {{0, 0}}});
  EXPECT_EQ(files.size(), 5u);
  const std::string header = slurp(dir / "model.h");
  EXPECT_NE(header.find("int model_run(int64_t n, const float* in0, float* out0);"), std::string::npos)
      << header;
  EXPECT_NE(header.find("in0  float [n, 20]"), std::string::npos) << header;
  const std::string json = slurp(dir / "model.json");
  EXPECT_NE(json.find("\"dynamic_sizes\": [\n    \"n\"\n  ]"), std::string::npos) << json;
  EXPECT_NE(json.find("\"shape\": [\n        \"n\",\n        20\n      ]"), std::string::npos) << json;
  const std::string exe = build_c_program(dir, kDynamicMain);
  ASSERT_FALSE(exe.empty()) << "the C program did not build in " << dir;
  for (int64_t n : {37, 1, 128}) {
    const Tensor x = randn({n, 20});
    write_raw(dir / "in.bin", x);
    ASSERT_EQ(run(exe + " " + std::to_string(n) + " " + (dir / "in.bin").string() + " " +
                  (dir / "out.bin").string()),
              0)
        << "n = " << n;
    const std::string bytes = slurp(dir / "out.bin");
    ASSERT_EQ(bytes.size(), static_cast<size_t>(n * 10 * 4)) << "n = " << n;
    Tensor got = empty({n, 10});
    std::memcpy(got.data_ptr(), bytes.data(), bytes.size());
    NoGradGuard no_grad;
    expect_close(got, (*model)(x).relu(), 1e-5);
  }
  // Read back into ember, checked, and run at sizes of its own.
  auto loaded = load_export(dir.string());
  for (int64_t n : {3, 50}) {
    const Tensor x = randn({n, 20});
    NoGradGuard no_grad;
    expect_close(loaded->run({x})[0], (*model)(x).relu(), 1e-5);
  }
  EXPECT_THROW(loaded->run({randn({3, 21})}), Error) << "a static dim is checked";
  // Another op that takes `?` dims is read (which ops do: tests/ir/dialect_test.cpp).
  std::string mlir = slurp(dir / "model.mlir");
  const size_t at = mlir.find("ember.relu");
  ASSERT_NE(at, std::string::npos) << mlir;
  mlir.replace(at, std::string("ember.relu").size(), "ember.gelu");  // allowed: elementwise
  std::ofstream(dir / "model.mlir") << mlir;
  EXPECT_NO_THROW(load_export(dir.string()));
  fs::remove_all(dir);
}

// Two named sizes (Note [Dynamic exports]): the C program passes batch and
// length; out0 is [batch, length, 4], out1 [batch, 3], out2 [length, 4].
constexpr const char* kTwoSizesMain = R"(#include <stdio.h>
#include <stdlib.h>
#include "model.h"
int main(int argc, char** argv) {
  const long b = atol(argv[1]), t = atol(argv[2]);
  const long nx = b * t * 4, nz = b * 3, n0 = nx, n1 = nz, n2 = t * 4;
  float* in = malloc(sizeof(float) * (nx + nz + 1));
  float* out = malloc(sizeof(float) * (n0 + n1 + n2 + 1));
  FILE* f = fopen(argv[3], "rb");
  if (!f || fread(in, sizeof(float), nx + nz, f) != (size_t)(nx + nz)) return 10;
  fclose(f);
  if (model_run(b, -1, in, in + nx, out, out + n0, out + n0 + n1) != -1) return 11;
  int rc = model_run(b, t, in, in + nx, out, out + n0, out + n0 + n1);
  f = fopen(argv[4], "wb");
  fwrite(out, sizeof(float), n0 + n1 + n2, f);
  fclose(f);
  return rc;
}
)";

TEST(Export, TwoNamedSizesExportOnceAndRunFromCAtAnyOfEach) {
  const auto fn = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{in[0].softmax(1) * 2, in[1].relu(), in[0].sum({0})};
  };
  auto f = compile(fn);
  const fs::path dir = fresh_dir("two-sizes");
  export_graph(f, {randn({2, 5, 4}), randn({2, 3})}, dir.string(),
               {.name = "model", .dynamic_dims = {{0, 0, "batch"}, {0, 1, "length"}, {1, 0, "batch"}}});
  const std::string header = slurp(dir / "model.h");
  EXPECT_NE(header.find("int model_run(int64_t batch, int64_t length, const float* in0, const float* in1, "
                        "float* out0, float* out1, float* out2);"),
            std::string::npos)
      << header;
  EXPECT_NE(header.find("out0 float [batch, length, 4]"), std::string::npos) << header;
  EXPECT_NE(header.find("out2 float [length, 4]"), std::string::npos) << header;
  const std::string json = slurp(dir / "model.json");
  EXPECT_NE(json.find("\"dynamic_sizes\": [\n    \"batch\",\n    \"length\"\n  ]"), std::string::npos)
      << json;
  const std::string exe = build_c_program(dir, kTwoSizesMain);
  ASSERT_FALSE(exe.empty()) << "the C program did not build in " << dir;
  auto loaded = load_export(dir.string());
  for (auto [b, t] : {std::pair<int64_t, int64_t>{2, 5}, {3, 1}, {1, 7}, {4, 0}}) {
    const Tensor x = randn({b, t, 4}), z = randn({b, 3});
    write_raw(dir / "in.bin", cat({x.reshape({-1}), z.reshape({-1})}));
    ASSERT_EQ(run(exe + " " + std::to_string(b) + " " + std::to_string(t) + " " + (dir / "in.bin").string() +
                  " " + (dir / "out.bin").string()),
              0)
        << "batch " << b << " length " << t;
    const std::vector<Tensor> want = fn({x, z});
    const std::string bytes = slurp(dir / "out.bin");
    const int64_t n0 = want[0].numel(), n1 = want[1].numel(), n2 = want[2].numel();
    ASSERT_EQ(bytes.size(), static_cast<size_t>((n0 + n1 + n2) * 4)) << "batch " << b << " length " << t;
    Tensor got = empty({n0 + n1 + n2});
    std::memcpy(got.data_ptr(), bytes.data(), bytes.size());
    expect_close(got.slice(0, 0, n0).view(want[0].sizes()), want[0], 1e-5);
    expect_close(got.slice(0, n0, n0 + n1).view(want[1].sizes()), want[1], 1e-5);
    expect_close(got.slice(0, n0 + n1, n0 + n1 + n2).view(want[2].sizes()), want[2], 1e-5);
    // Read back into ember: the same sizes from the tensors.
    const std::vector<Tensor> again = loaded->run({x, z});
    for (size_t k = 0; k < want.size(); ++k) expect_close(again[k], want[k], 1e-5);
  }
  EXPECT_THROW(loaded->run({randn({2, 5, 4}), randn({3, 3})}), Error) << "two batches";
  // model.json edited to say out2 is [batch, 4]: refused at load (Note [Sizes
  // of a loaded export's results]), not run with a buffer of the wrong size.
  std::string edited = json;
  const size_t out2 = edited.find("\"output 2\"");
  ASSERT_NE(out2, std::string::npos) << json;
  edited.replace(edited.find("\"length\"", out2), 8, "\"batch\"");
  std::ofstream(dir / "model.json") << edited;
  try {
    load_export(dir.string());
    ADD_FAILURE() << "loaded an output of the wrong size";
  } catch (const Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("output 2 dim 0 is input 0's dim 1, not the size the signature names"),
        std::string::npos)
        << e.what();
  }
  // Errors: one name of two sizes; a name the C entry cannot take.
  EXPECT_THROW(export_graph(f, {randn({2, 5, 4}), randn({3, 3})}, fresh_dir("two-sizes-bad").string(),
                            {.name = "model", .dynamic_dims = {{0, 0, "batch"}, {1, 0, "batch"}}}),
               Error);
  EXPECT_THROW(export_graph(f, {randn({2, 5, 4}), randn({2, 3})}, fresh_dir("two-sizes-bad").string(),
                            {.name = "model", .dynamic_dims = {{0, 0, "in0"}, {1, 0, "in0"}}}),
               Error);
  fs::remove_all(dir);
  fs::remove_all(fresh_dir("two-sizes-bad"));
}

TEST(Export, ASliceToADynamicLengthIsCheckedAgainstItsBuffer) {
  // pos[2:2+T] of an [18, 8] table: the length is the caller's T, checked
  // against the 16 rows it may take (the jit traces each new length; an
  // export's caller passes any).
  const Tensor pos = randn({18, 8});
  const auto fn = [pos](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{in[0] + pos.slice(0, 2, 2 + in[0].size(0))};
  };
  auto f = compile(fn);
  const fs::path dir = fresh_dir("dynamic-slice");
  export_graph(f, {randn({5, 8})}, dir.string(), {.name = "model", .dynamic_dims = {{0, 0, "length"}}});
  auto loaded = load_export(dir.string());
  for (int64_t t : {1, 9, 16}) {
    const Tensor x = randn({t, 8});
    expect_close(loaded->run({x})[0], fn({x})[0], 1e-6);
  }
  try {
    loaded->run({randn({17, 8})});
    ADD_FAILURE() << "read past the table";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("slice: a run-time length of dim 0 from 2 is past the dim's 18"),
              std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

TEST(Export, ADynamicDimMustBeOneSizeTheOutputsFollow) {
  // The output's dim is 2n: not a size the C caller knows from n.
  auto f = compile([](const std::vector<Tensor>& in) { return std::vector<Tensor>{cat({in[0], in[0]}, 0)}; });
  const fs::path dir = fresh_dir("dynamic-bad");
  try {
    export_graph(f, {randn({4, 3})}, dir.string(), {.name = "model", .dynamic_dims = {{0, 0}}});
    ADD_FAILURE() << "exported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("output 0 dim 0 is not provably a dynamic dim of an input"),
              std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

TEST(Export, ALoadedResultWhoseSizeIsNotAnInputsIsRefused) {
  // Note [Sizes of a loaded export's results]: model.mlir edited so that
  // its result is x twice over (2n rows) while model.json still says n: the
  // runner would allocate n rows and the code write 2n. Refused at load.
  auto f = compile([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] * 2}; });
  const fs::path dir = fresh_dir("dynamic-hostile");
  export_graph(f, {randn({3, 4})}, dir.string(), {.name = "model", .dynamic_dims = {{0, 0}}});
  EXPECT_NO_THROW(load_export(dir.string()));
  std::string mlir = slurp(dir / "model.mlir");
  const std::string mul = "%1 = ember.mul %arg0, %0 : tensor<?x4xf32>, tensor<f32> -> tensor<?x4xf32>";
  const size_t at = mlir.find(mul);
  ASSERT_NE(at, std::string::npos) << mlir;
  mlir.replace(at, mul.size(),
               "%2 = ember.mul %arg0, %0 : tensor<?x4xf32>, tensor<f32> -> tensor<?x4xf32>\n"
               "    %1 = ember.cat %2, %2 {dim = 0 : i64} : tensor<?x4xf32>, tensor<?x4xf32> -> "
               "tensor<?x4xf32>");
  std::ofstream(dir / "model.mlir") << mlir;
  try {
    load_export(dir.string());
    ADD_FAILURE() << "loaded a result of 2n rows as n";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("output 0 dim 0 is not provably a dynamic dim of an input"),
              std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

TEST(Export, TheReentrantEntryRunsFromFourCThreads) {
  manual_seed(24);
  auto model = small_mlp();
  NoGradGuard no_grad;
  auto f =
      compile([model](const std::vector<Tensor>& in) { return std::vector<Tensor>{(*model)(in[0]).tanh()}; });
  const Tensor example = randn({3, 20});
  const fs::path dir = fresh_dir("threads");
  export_graph(f, {example}, dir.string());
  const std::string header = slurp(dir / "model.h");
  EXPECT_NE(header.find("int model_run_ws(void* workspace, const float* in0, float* out0);"),
            std::string::npos)
      << header;
  EXPECT_NE(header.find("int64_t model_workspace_size(void);"), std::string::npos) << header;
  EXPECT_NE(header.find("is\n// reentrant"), std::string::npos)
      << "the header says which entry is thread-safe";
  std::string source = kThreadsMain;
  source.replace(source.find("%IN%"), 4, std::to_string(example.numel()));
  source.replace(source.find("%OUT%"), 5, "30");
  const std::string exe = build_c_program(dir, source, "-pthread");
  ASSERT_FALSE(exe.empty()) << "the C program did not build in " << dir;
  const Tensor inputs = randn({4, 3, 20});
  write_raw(dir / "in.bin", inputs);
  ASSERT_EQ(run(exe + " " + (dir / "in.bin").string() + " " + (dir / "out.bin").string()), 0)
      << "a thread's result differed from the single call's, or a bad workspace was not refused";
  const std::string bytes = slurp(dir / "out.bin");
  ASSERT_EQ(bytes.size(), 4u * 30 * 4);
  Tensor out = empty({4, 3, 10});
  std::memcpy(out.data_ptr(), bytes.data(), bytes.size());
  for (int64_t t = 0; t < 4; ++t) expect_close(out[t], (*model)(inputs[t]).tanh(), 1e-5);
  fs::remove_all(dir);
}

TEST(Export, TheDigitsCnnRunsAsAPlainCProgramAndMatchesEager) {
  manual_seed(23);
  // examples/cnn_digits.cpp's model, on 8x8 images.
  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Conv2d>(1, 16, 3, 1, 1), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::MaxPool2d>(2), std::make_shared<nn::Conv2d>(16, 32, 3, 1, 1),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(2), std::make_shared<nn::Flatten>(),
      std::make_shared<nn::Linear>(32 * 2 * 2, 10));
  NoGradGuard no_grad;
  auto f = compile([model](const std::vector<Tensor>& in) { return std::vector<Tensor>{(*model)(in[0])}; });
  const Tensor x = rand({4, 1, 8, 8}) * 16;  // pixel values as in the data set
  const Tensor want = (*model)(x);
  const fs::path dir = fresh_dir("cnn");
  expect_close(run_exported_c(f, x, {4, 10}, dir), want, 1e-4);
  fs::remove_all(dir);
}

TEST(Export, BadExportsAreErrorsNamingTheFile) {
  manual_seed(22);
  auto model = small_mlp();
  NoGradGuard no_grad;
  auto f = compile([model](const std::vector<Tensor>& in) { return std::vector<Tensor>{(*model)(in[0])}; });
  const fs::path dir = fresh_dir("bad");
  export_graph(f, {randn({4, 20})}, dir.string());
  const auto expect_error = [&](const std::string& what) {
    try {
      load_export(dir.string());
      ADD_FAILURE() << "no error; expected one containing: " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  const std::string json = slurp(dir / "model.json"), mlir = slurp(dir / "model.mlir"),
                    weights = slurp(dir / "model.safetensors");
  fs::remove(dir / "model.json");
  expect_error((dir / "model.json").string() + " is missing");
  std::ofstream(dir / "model.json") << json.substr(0, json.size() / 2);
  expect_error((dir / "model.json").string() + " is not valid JSON");
  std::string other = json;
  other.replace(other.find(EMBER_VERSION), std::string(EMBER_VERSION).size(), "0.0.1");
  std::ofstream(dir / "model.json") << other;
  expect_error("was written by ember 0.0.1");
  std::ofstream(dir / "model.json") << json;
  std::ofstream(dir / "model.mlir") << mlir.substr(0, mlir.size() / 2);
  expect_error((dir / "model.mlir").string() + " does not parse");
  std::ofstream(dir / "model.mlir") << mlir;
  std::ofstream(dir / "model.safetensors", std::ios::binary) << weights.substr(0, weights.size() - 100);
  expect_error((dir / "model.safetensors").string());
  std::ofstream(dir / "model.safetensors", std::ios::binary) << weights;
  EXPECT_NO_THROW(load_export(dir.string()));
  fs::remove_all(dir);
}

TEST(Export, RandomOpsDoNotExport) {
  auto f = compile([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] + rand({4})}; });
  try {
    export_graph(f, {ones({4})}, fresh_dir("random").string());
    FAIL() << "a function drawing random numbers exported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("calls ember_random_draw: draws from ember's random generator"),
              std::string::npos)
        << e.what();
  }
}

// `forward`'s export, refused with `message` (the runtime kernel it calls).
void expect_export_refused(const std::function<Tensor(const Tensor&)>& forward, const std::string& message) {
  auto f = compile([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{forward(in[0])}; });
  try {
    NoGradGuard no_grad;
    export_graph(f, {ones({5, 2, 3})}, fresh_dir("recurrent").string());
    FAIL() << "exported: " << message;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
  }
}

TEST(Export, RecurrentLayersDoNotExportAndSayWhy) {
  // The LSTM and the GRU are calls of ember's runtime kernels, which an export does not link.
  nn::LSTM lstm(3, 4);
  expect_export_refused([&](const Tensor& x) { return lstm.forward(x).first; },
                        "calls ember_lstm_f32: is ember's LSTM kernel, in the ember runtime");
  nn::GRU gru(3, 4);
  expect_export_refused([&](const Tensor& x) { return gru.forward(x).first; },
                        "calls ember_gru_f32: is ember's GRU kernel, in the ember runtime");
}

TEST(Export, ATrainingStepDoesNotExport) {
  auto model = small_mlp();
  auto opt = std::make_shared<optim::SGD>(model->parameters(), optim::SGDOptions{.lr = 0.1});
  auto step = compile([model, opt](const std::vector<Tensor>& in) {
    opt->zero_grad();
    Tensor loss = (*model)(in[0]).sum();
    loss.backward();
    opt->step();
    return std::vector<Tensor>{loss};
  });
  try {
    export_graph(step, {randn({4, 20})}, fresh_dir("train").string());
    FAIL() << "a training step exported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("export a function without side effects"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace ember::jit
