// report.h - ember-bench's results for people: the dynamic-versus-static
// table (eager against compiled per workload and thread count, with speed-up,
// compile time, break-even calls and each mode's peak RSS, and optionally
// another framework's figures from its JSON lines), and the same as an SVG
// bar chart.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ember::bench {

// One row per (workload, threads) that has results.
struct Row {
  std::string workload;
  int threads = 1;
  double eager_ms = -1, compiled_ms = -1, compile_ms = -1;  // -1: not measured
  double eager_rss_mb = -1, compiled_rss_mb = -1;
  double other_ms = -1;  // the other framework's fastest mode, from --compare
};

// Rows in the order the results came, with `other` lines (any mode; the
// fastest counts) matched by workload and threads.
std::vector<Row> make_rows(const std::vector<nlohmann::json>& results,
                           const std::vector<nlohmann::json>& other);

// The break-even number of calls: compile time over the time a compiled call
// saves; negative when compiling never pays off (compiled is not faster).
double break_even_calls(const Row& r);

std::string table(const std::vector<Row>& rows, const std::string& other_name);
std::string svg(const std::vector<Row>& rows, const std::string& other_name);

// JSON lines of a file (blank lines skipped); an ember::Error names the file
// and line of anything that is not a JSON object with workload/threads/median_ms.
std::vector<nlohmann::json> read_json_lines(const std::string& path);

}  // namespace ember::bench
