// safetensors_test.cpp - weights round-trip bit-exactly, other readers read
// them, and every kind of bad file is a clear error that leaves the module
// unchanged.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ember/ember.h"

namespace ember {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) { return ::testing::TempDir() + "ember_" + name; }

struct Net : nn::Layer {
  std::shared_ptr<nn::Linear> fc;
  std::shared_ptr<nn::BatchNorm1d> bn;
  Net() : Layer("Net") {
    fc = register_module("fc", std::make_shared<nn::Linear>(3, 2));
    bn = register_module("bn", std::make_shared<nn::BatchNorm1d>(2));
  }
  Tensor forward(const Tensor& x) override { return (*bn)((*fc)(x)); }
};

// Writes an 8-byte length (`claimed` or the header's own), a header and data.
void write_raw(const std::string& path, const std::string& header, const std::string& data,
               std::optional<uint64_t> claimed = {}) {
  std::ofstream out(path, std::ios::binary);
  const uint64_t n = claimed.value_or(header.size());
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>(n >> (8 * i)));
  out << header << data;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Safetensors, ModuleStateRoundTripsBitExactly) {
  manual_seed(0);
  Net a;
  a(randn({4, 3}));  // moves the batch-norm running stats off their defaults
  const std::string path = temp_path("roundtrip.safetensors");
  nn::save(a, path);
  Net b;
  Tensor b_weight = b.fc->weight;
  nn::load(b, path);
  EXPECT_TRUE(b_weight.is_same(b.fc->weight)) << "loading writes into the existing parameters";
  const auto sa = a.state(), sb = b.state();
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].first, sb[i].first);
    ASSERT_EQ(sa[i].second.dtype(), sb[i].second.dtype());
    EXPECT_EQ(std::memcmp(sa[i].second.contiguous().data_ptr(), sb[i].second.contiguous().data_ptr(),
                          sa[i].second.numel() * sa[i].second.itemsize()),
              0)
        << sa[i].first << " differs";
  }
  EXPECT_EQ(b.bn->num_batches_tracked.item<int64_t>(), 1);
  // Tensors of every dtype, and non-contiguous ones, through the plain API.
  const nn::NamedTensors tensors = {{"f64", randn({2, 3}, DType::Float64).t()},
                                    {"i32", tensor<int32_t>({1, -2, 3})},
                                    {"b", tensor<bool>({true, false})},
                                    {"empty", zeros({0, 4})}};
  save_safetensors(tensors, path);
  const auto back = load_safetensors(path);
  ASSERT_EQ(back.size(), 4u);
  EXPECT_EQ(back[0].second.to_vector<double>(), tensors[0].second.to_vector<double>());
  EXPECT_EQ(back[1].second.to_vector<int32_t>(), (std::vector<int32_t>{1, -2, 3}));
  EXPECT_EQ(back[2].second.to_vector<bool>(), (std::vector<bool>{true, false}));
  EXPECT_EQ(back[3].second.sizes(), (Shape{0, 4}));
  fs::remove(path);
}

TEST(Safetensors, ReadableByAnotherReader) {
  // numpy (from Debian's python3-numpy, which python3-sklearn brings) reads
  // the format by its specification: length, JSON header, raw little-endian data.
  Net a;
  const std::string path = temp_path("numpy.safetensors");
  nn::save(a, path);
  const std::string script =
      "import json, struct, sys, numpy as np\n"
      "b = open(sys.argv[1], 'rb').read()\n"
      "n = struct.unpack('<Q', b[:8])[0]\n"
      "h = json.loads(b[8:8 + n])\n"
      "kinds = {'F32': '<f4', 'F64': '<f8', 'I64': '<i8', 'I32': '<i4', 'BOOL': '?'}\n"
      "for k, v in h.items():\n"
      "    if k == '__metadata__': continue\n"
      "    s, e = v['data_offsets']\n"
      "    a = np.frombuffer(b[8 + n + s:8 + n + e], dtype=kinds[v['dtype']]).reshape(v['shape'])\n"
      "    print(k, repr(float(a.astype(np.float64).sum())))\n";
  const std::string script_path = temp_path("read.py");
  std::ofstream(script_path) << script;
  FILE* p = popen(("/usr/bin/python3 " + script_path + " " + path).c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::map<std::string, double> sums;
  char name[128];
  double value;
  while (std::fscanf(p, "%127s %lf", name, &value) == 2) sums[name] = value;
  ASSERT_EQ(pclose(p), 0) << "the Python reader failed";
  for (const auto& [n, t] : a.state())
    EXPECT_NEAR(sums.at(n), t.to(DType::Float64).sum().item<double>(), 1e-9) << n;
  fs::remove(path);
  fs::remove(script_path);
}

TEST(Safetensors, CorruptFilesAreClearErrors) {
  const std::string path = temp_path("bad.safetensors");
  auto load_error = [&] { return error_of([&] { load_safetensors(path); }); };
  const std::string good = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";

  EXPECT_NE(error_of([] {
              load_safetensors("/nonexistent/x.safetensors");
            }).find("cannot open /nonexistent/x.safetensors"),
            std::string::npos);
  std::ofstream(path) << "abc";
  EXPECT_NE(load_error().find("truncated: 3 bytes"), std::string::npos) << load_error();
  write_raw(path, good, std::string(8, '\0'), 1000);
  EXPECT_NE(load_error().find("header claims 1000 bytes"), std::string::npos) << load_error();
  write_raw(path, "{not json", "");
  EXPECT_NE(load_error().find("not valid JSON"), std::string::npos) << load_error();
  write_raw(path, R"({"w":{"dtype":"F32"}})", "");
  EXPECT_NE(load_error().find("entry 'w' needs dtype, shape and data_offsets"), std::string::npos)
      << load_error();
  write_raw(path, R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", std::string(4, '\0'));
  EXPECT_NE(load_error().find("\"F16\" is not one ember reads"), std::string::npos) << load_error();
  write_raw(path, R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0'));
  EXPECT_NE(load_error().find("needs 12"), std::string::npos) << load_error();
  write_raw(path, good, std::string(5, '\0'));  // the data is cut short
  EXPECT_NE(load_error().find("truncated: entry 'w' needs bytes [0, 8) but the file has only 5"),
            std::string::npos)
      << load_error();
  write_raw(path, R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", std::string(8, '\0'));
  EXPECT_NE(load_error().find("invalid size"), std::string::npos) << load_error();
  write_raw(path, good, std::string(8, '\0'));
  EXPECT_EQ(load_error(), "(no error)");
  fs::remove(path);
}

// Hostile headers: a length of 2^63, sizes whose byte count overflows.
TEST(Safetensors, AbsurdHeadersAreClearErrors) {
  const std::string path = temp_path("absurd.safetensors");
  auto load_error = [&] { return error_of([&] { load_safetensors(path); }); };
  write_raw(path, R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", std::string(8, '\0'),
            uint64_t{1} << 63);
  EXPECT_NE(load_error().find("header claims 9223372036854775808 bytes"), std::string::npos) << load_error();
  write_raw(path, R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", "");
  EXPECT_NE(load_error().find("more bytes than a 64-bit count holds"), std::string::npos) << load_error();
  write_raw(path, R"({"w":{"dtype":"F64","shape":[1099511627776,1099511627776],"data_offsets":[0,0]}})", "");
  EXPECT_NE(load_error().find("more bytes than a 64-bit count holds"), std::string::npos) << load_error();
  write_raw(path, R"({"w":{"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,0]}})", "");
  EXPECT_NE(load_error().find("invalid size"), std::string::npos) << load_error();
  write_raw(path, R"({"w":{"dtype":"F32","shape":[1,2,3,4,5,6,7,8,9],"data_offsets":[0,0]}})", "");
  EXPECT_NE(load_error().find("at most 8 sizes"), std::string::npos) << load_error();
  write_raw(path, R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551615,7]}})",
            std::string(8, '\0'));
  EXPECT_NE(load_error().find("data_offsets"), std::string::npos) << load_error();
  fs::remove(path);
}

// kill -9 in the middle of nn::save: the file keeps its previous contents.
TEST(Safetensors, AKillInTheMiddleOfASaveLeavesThePreviousFile) {
  const std::string path = temp_path("killed.safetensors");
  struct Big : nn::Module {
    Tensor w;
    Big(double value) : Module("Big") { w = register_parameter("w", full({64, 1024, 1024}, value), false); }
  };
  Big before(1.0), after(2.0);  // 256 MiB each: a save takes long enough to be caught
  nn::save(before, path);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    nn::save(after, path);
    ::_exit(0);
  }
  // Kill the child once its temporary holds part of the new file.
  const std::string prefix = fs::path(path).filename().string() + ".tmp." + std::to_string(child) + ".";
  bool caught = false;
  for (int i = 0; i < 200000 && !caught; ++i) {
    for (const auto& entry : fs::directory_iterator(fs::path(path).parent_path())) {
      const std::string name = entry.path().filename().string();
      std::error_code error;
      const auto size = fs::file_size(entry.path(), error);
      if (name.rfind(prefix, 0) == 0 && !error && size > 0 && size < fs::file_size(path)) caught = true;
    }
    if (!caught) ::usleep(20);
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(caught) << "the child finished before it could be killed mid-write";
  ASSERT_TRUE(WIFSIGNALED(status));
  Big loaded(0.0);
  nn::load(loaded, path);
  EXPECT_EQ(loaded.w.max().item<float>(), 1.0f);
  EXPECT_EQ(loaded.w.min().item<float>(), 1.0f) << "the previous file, whole";
  for (const auto& entry : fs::directory_iterator(fs::path(path).parent_path()))
    if (entry.path().filename().string().rfind(prefix, 0) == 0)
      fs::remove(entry.path());  // the child's leftover
  fs::remove(path);
}

TEST(Safetensors, MismatchedWeightsNameEveryProblemAndLeaveTheModuleUnchanged) {
  const std::string path = temp_path("mismatch.safetensors");
  Net target;
  const auto before = target.fc->weight.to_vector<float>();
  save_safetensors({{"fc.weight", zeros({2, 4})},             // wrong shape
                    {"fc.bias", zeros({2}, DType::Float64)},  // wrong dtype
                    {"extra", zeros({1})}},                   // not in the module
                   path);
  const std::string msg = error_of([&] { nn::load(target, path); });
  EXPECT_NE(msg.find("entry 'fc.weight' has shape [2, 4] but the module's is [2, 3]"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("entry 'fc.bias' is float64 but the module's is float32"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing entry 'bn.weight'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unexpected entry 'extra'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("safetensors_test.cpp"), std::string::npos) << "names the caller's line: " << msg;
  EXPECT_EQ(target.fc->weight.to_vector<float>(), before) << "nothing was copied";
  fs::remove(path);
}

TEST(Safetensors, WritesAreAtomic) {
  const std::string path = temp_path("atomic.safetensors");
  save_safetensors({{"a", ones({1000})}}, path);
  save_safetensors({{"b", zeros({3})}}, path);  // replaces the old file whole
  const auto back = load_safetensors(path);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].first, "b");
  for (const auto& entry : fs::directory_iterator(::testing::TempDir()))
    EXPECT_EQ(entry.path().string().find("atomic.safetensors.tmp"), std::string::npos)
        << "temporary left behind";
  EXPECT_THROW(save_safetensors({{"a", ones({2})}}, "/nonexistent-dir/x.safetensors"), Error);
  EXPECT_THROW(save_safetensors({{"a", ones({2})}, {"a", ones({2})}}, path), Error) << "duplicate names";
  EXPECT_EQ(load_safetensors(path)[0].first, "b") << "a failed save leaves the old file";
  fs::remove(path);
}

}  // namespace
}  // namespace ember
