// report.cpp - see report.h.
#include "bench/report.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "ember/error.h"

namespace ember::bench {

using nlohmann::json;

std::vector<Row> make_rows(const std::vector<json>& results, const std::vector<json>& other) {
  std::vector<Row> rows;
  const auto row_for = [&](const std::string& workload, int threads) -> Row& {
    for (Row& r : rows)
      if (r.workload == workload && r.threads == threads) return r;
    rows.push_back({workload, threads});
    return rows.back();
  };
  for (const json& j : results) {
    Row& r = row_for(j["workload"].get<std::string>(), j["threads"].get<int>());
    const double rss = j.value("peak_rss_mb", -1.0);
    if (j["mode"] == "compiled") {
      r.compiled_ms = j["median_ms"].get<double>();
      r.compile_ms = j.value("compile_ms", -1.0);
      r.compiled_rss_mb = rss;
    } else {
      r.eager_ms = j["median_ms"].get<double>();
      r.eager_rss_mb = rss;
    }
  }
  for (const json& j : other)
    for (Row& r : rows)
      if (r.workload == j["workload"].get<std::string>() && r.threads == j["threads"].get<int>()) {
        const double ms = j["median_ms"].get<double>();
        if (r.other_ms < 0 || ms < r.other_ms) r.other_ms = ms;
      }
  return rows;
}

double break_even_calls(const Row& r) {
  if (r.eager_ms < 0 || r.compiled_ms < 0 || r.compile_ms < 0) return -1;
  const double saved = r.eager_ms - r.compiled_ms;
  return saved > 0 ? r.compile_ms / saved : -1;
}

namespace {

std::string number(double v, const char* format = "%.3f") {
  if (v < 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

double best_ember(const Row& r) {
  if (r.compiled_ms < 0) return r.eager_ms;
  if (r.eager_ms < 0) return r.compiled_ms;
  return std::min(r.eager_ms, r.compiled_ms);
}

}  // namespace

std::string table(const std::vector<Row>& rows, const std::string& other_name) {
  std::ostringstream o;
  char line[512];
  std::snprintf(line, sizeof line, "%-13s %3s %10s %11s %8s %11s %10s %8s %8s", "workload", "thr", "eager ms",
                "compiled ms", "speed-up", "compile ms", "break-even", "eager MB", "comp. MB");
  o << line;
  if (!other_name.empty()) {
    std::snprintf(line, sizeof line, " %12s %10s", (other_name + " ms").c_str(), "ember/them");
    o << line;
  }
  o << "\n";
  for (const Row& r : rows) {
    const double be = break_even_calls(r);
    const std::string speedup =
        r.eager_ms > 0 && r.compiled_ms > 0 ? number(r.eager_ms / r.compiled_ms, "%.2fx") : "-";
    const std::string even =
        be >= 0 ? number(be, "%.0f calls") : (r.compiled_ms > 0 && r.eager_ms > 0 ? "never" : "-");
    std::snprintf(line, sizeof line, "%-13s %3d %10s %11s %8s %11s %10s %8s %8s", r.workload.c_str(),
                  r.threads, number(r.eager_ms).c_str(), number(r.compiled_ms).c_str(), speedup.c_str(),
                  number(r.compile_ms, "%.0f").c_str(), even.c_str(), number(r.eager_rss_mb, "%.0f").c_str(),
                  number(r.compiled_rss_mb, "%.0f").c_str());
    o << line;
    if (!other_name.empty()) {
      const std::string ratio =
          r.other_ms > 0 && best_ember(r) > 0 ? number(best_ember(r) / r.other_ms, "%.2f") : "-";
      std::snprintf(line, sizeof line, " %12s %10s", number(r.other_ms).c_str(), ratio.c_str());
      o << line;
    }
    o << "\n";
  }
  o << "speed-up: eager / compiled; break-even: compile ms / ms saved per call; ember/them: ember's best "
       "mode over "
       "theirs (below 1: ember is faster)\n";
  return o.str();
}

std::string svg(const std::vector<Row>& rows, const std::string& other_name) {
  // One group per row: a bar per mode, scaled to the group's slowest bar.
  const int bar = 16, gap = 12, label = 190, width = 760, plot = width - label - 110;
  const int bars = other_name.empty() ? 2 : 3;
  const int group = bars * bar + gap;
  const int height = 60 + static_cast<int>(rows.size()) * group;
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"10\" y=\"20\" font-size=\"14\">ember-bench: median ms per iteration (shorter is faster; "
       "each "
       "group scaled to its slowest bar)</text>\n";
  const char* colors[] = {"#d95f02", "#1b9e77", "#7570b3"};
  const std::string names[] = {"eager", "compiled", other_name};
  for (int k = 0; k < bars; ++k)
    o << "<rect x=\"" << 10 + k * 130 << "\" y=\"32\" width=\"12\" height=\"12\" fill=\"" << colors[k]
      << "\"/><text x=\"" << 26 + k * 130 << "\" y=\"43\">" << names[k] << "</text>\n";
  int y = 56;
  for (const Row& r : rows) {
    const double values[] = {r.eager_ms, r.compiled_ms, r.other_ms};
    double top = 0;
    for (int k = 0; k < bars; ++k) top = std::max(top, values[k]);
    o << "<text x=\"10\" y=\"" << y + bars * bar / 2 + 4 << "\">" << r.workload << " (" << r.threads
      << " thread" << (r.threads > 1 ? "s" : "") << ")</text>\n";
    for (int k = 0; k < bars; ++k) {
      if (values[k] <= 0 || top <= 0) continue;
      const int w = std::max(1, static_cast<int>(plot * values[k] / top));
      o << "<rect x=\"" << label << "\" y=\"" << y + k * bar << "\" width=\"" << w << "\" height=\""
        << bar - 2 << "\" fill=\"" << colors[k] << "\"/><text x=\"" << label + w + 4 << "\" y=\""
        << y + k * bar + bar - 5 << "\">" << number(values[k], "%.2f") << " ms</text>\n";
    }
    y += group;
  }
  o << "</svg>\n";
  return o.str();
}

std::vector<json> read_json_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in.good()) throw Error("ember-bench: cannot read " + path);
  std::vector<json> lines;
  std::string text;
  for (int n = 1; std::getline(in, text); ++n) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j;
    try {
      j = json::parse(text);
    } catch (const json::exception& e) {
      throw Error("ember-bench: " + path + ":" + std::to_string(n) + " is not JSON: " + e.what());
    }
    if (!j.is_object() || !j.contains("workload") || !j.contains("threads") || !j.contains("median_ms"))
      throw Error("ember-bench: " + path + ":" + std::to_string(n) + " lacks workload, threads or median_ms");
    lines.push_back(std::move(j));
  }
  return lines;
}

}  // namespace ember::bench
