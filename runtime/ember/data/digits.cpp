// digits.cpp - the digits CSV through zlib's gzread (which also reads plain files).
#include "ember/data/digits.h"

#include <zlib.h>

#include <cstdlib>
#include <sstream>
#include <vector>

#include "ember/ops.h"

namespace ember::data {

namespace {
std::string read_gzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  EMBER_CHECK(f != nullptr, Loc::current(), "load_digits: cannot open ", path,
              " (on Debian it comes with the python3-sklearn package: scripts/setup.sh installs it)");
  std::string text;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) text.append(buf, n);
  int err = 0;
  const char* msg = gzerror(f, &err);
  const std::string error = err != Z_OK && err != Z_STREAM_END ? msg : "";
  gzclose(f);
  EMBER_CHECK(n == 0 && error.empty(), Loc::current(), "load_digits: ", path,
              " is not a readable gzip file: ", error);
  return text;
}
}  // namespace

Digits load_digits(const std::string& path) {
  const std::string text = read_gzip(path);
  std::vector<float> pixels;
  std::vector<int64_t> labels;
  std::istringstream lines(text);
  std::string line;
  int64_t line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    std::vector<double> values;
    const char* p = line.c_str();
    while (*p) {
      char* end = nullptr;
      const double v = std::strtod(p, &end);
      EMBER_CHECK(end != p, Loc::current(), "load_digits: ", path, " line ", line_no, ": not a number near '",
                  std::string(p).substr(0, 10), "'");
      values.push_back(v);
      p = end;
      while (*p == ',' || *p == ' ' || *p == '\r') ++p;
    }
    EMBER_CHECK(values.size() == 65, Loc::current(), "load_digits: ", path, " line ", line_no,
                ": expected 65 values (64 pixels and a label), got ", values.size());
    for (int i = 0; i < 64; ++i) {
      EMBER_CHECK(values[i] >= 0 && values[i] <= 16, Loc::current(), "load_digits: ", path, " line ", line_no,
                  ": pixel ", i, " is ", values[i], ", outside 0..16");
      pixels.push_back(static_cast<float>(values[i] / 16.0));
    }
    EMBER_CHECK(values[64] >= 0 && values[64] <= 9 && values[64] == int(values[64]), Loc::current(),
                "load_digits: ", path, " line ", line_no, ": label ", values[64], " is not a digit");
    labels.push_back(static_cast<int64_t>(values[64]));
  }
  EMBER_CHECK(!labels.empty(), Loc::current(), "load_digits: ", path, " holds no images");
  const int64_t n = static_cast<int64_t>(labels.size());
  return {tensor(pixels, {n, 64}), tensor(labels)};
}

}  // namespace ember::data
