// ember-bench - runs the workloads of shared/bench/WORKLOADS.md and prints one
// JSON line per (workload, mode, threads) on standard output; progress and a
// table for people go to standard error.
//
//   ember-bench [--workloads ew_chain,matmul] [--modes eager,compiled] [--threads 1,2]
//               [--iters N] [--rounds N] [--quick] [--svg chart.svg] [--compare pytorch.jsonl]
//
// After the lines, standard error gets the dynamic-versus-static table
// (bench/report.h); --svg writes it as a bar chart, --compare adds another
// framework's figures from its JSON lines (bench/pytorch_reference.py).
//
// Each (workload, threads) runs in a child process, so that peak_rss_mb is
// that workload's own and one workload's allocations cannot slow another.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "bench/report.h"
#include "bench/workloads.h"
#include "ember/ember.h"
#include "ember/serialize/atomic_file.h"

using nlohmann::json;

namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t end = s.find(',', start);
    const std::string item = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!item.empty()) out.push_back(item);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // ru_maxrss is in KiB on Linux
}

// Runs one workload in this (child) process and returns its result line.
json run_one(const ember::bench::Workload& w, const std::string& mode, int threads, int warmup, int iters) {
  ember::set_num_threads(threads);
  ember::manual_seed(0);
  const ember::bench::Prepared prepared = w.prepare(mode);
  auto times = ember::bench::time_iterations(prepared.run, warmup, iters);
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  json line = {
      {"workload", w.name},      {"mode", mode},           {"threads", threads}, {"median_ms", median},
      {"min_ms", times.front()}, {"max_ms", times.back()}, {"iters", iters}};
  if (prepared.compile_ms >= 0) line["compile_ms"] = prepared.compile_ms;
  if (w.extra) w.extra(line, median, iters);
  line["peak_rss_mb"] = peak_rss_mb();
  return line;
}

// Runs one (workload, mode, threads) in a child process (its own peak RSS);
// nothing when the mode cannot run the workload (said on stderr) or it failed
// (counted in `failures`).
std::optional<json> run_in_child(const ember::bench::Workload& w, const std::string& mode, int threads,
                                 int warmup, int iters, int& failures) {
  std::cerr << "running " << w.name << " (" << mode << ", " << threads << " thread"
            << (threads > 1 ? "s" : "") << ")...\n";
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    ++failures;
    return std::nullopt;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    close(pipe_fds[0]);
    int code = 0;
    try {
      const std::string text = run_one(w, mode, threads, warmup, iters).dump() + "\n";
      if (write(pipe_fds[1], text.data(), text.size()) < 0) code = 1;
    } catch (const ember::Error& e) {
      // A mode that cannot run this workload yet: said, not a failure.
      std::cerr << "ember-bench: " << w.name << " (" << mode << ") skipped: " << e.what() << "\n";
      code = 3;
    } catch (const std::exception& e) {
      std::cerr << "ember-bench: " << w.name << " failed: " << e.what() << "\n";
      code = 1;
    }
    _exit(code);
  }
  close(pipe_fds[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0) text.append(buf, n);
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 3) return std::nullopt;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || text.empty()) {
    std::cerr << "ember-bench: " << w.name << " did not finish\n";
    ++failures;
    return std::nullopt;
  }
  return json::parse(text);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ember-bench: the workloads of shared/bench/WORKLOADS.md, as JSON lines"};
  std::string workload_list, mode_list = "eager,compiled", thread_list = "1,2", svg_path, compare_path;
  int iters = 20, rounds = 1;
  bool quick = false;
  app.add_option("--workloads", workload_list, "comma-separated workloads (default: all)");
  app.add_option("--modes", mode_list, "comma-separated modes: eager, compiled");
  app.add_option("--threads", thread_list, "comma-separated thread counts");
  app.add_option("--iters", iters, "timed iterations (median reported)")->check(CLI::PositiveNumber);
  app.add_option("--rounds", rounds, "alternate the modes this many times; report each one's median run")
      ->check(CLI::PositiveNumber);
  app.add_flag("--quick", quick, "one warm-up and one timed iteration each (a smoke test)");
  app.add_option("--svg", svg_path, "also write the results as an SVG bar chart to this file");
  app.add_option("--compare", compare_path, "JSON lines of another framework for the same workloads")
      ->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);

  std::vector<const ember::bench::Workload*> selected;
  for (const auto& name : split_list(workload_list)) {
    auto it = std::find_if(ember::bench::workloads().begin(), ember::bench::workloads().end(),
                           [&](const auto& w) { return w.name == name; });
    if (it == ember::bench::workloads().end()) {
      std::cerr << "ember-bench: unknown workload '" << name << "'; known:";
      for (const auto& w : ember::bench::workloads()) std::cerr << " " << w.name;
      std::cerr << "\n";
      return 2;
    }
    selected.push_back(&*it);
  }
  if (selected.empty())
    for (const auto& w : ember::bench::workloads()) selected.push_back(&w);
  std::vector<int> threads;
  for (const auto& t : split_list(thread_list)) threads.push_back(std::max(1, std::atoi(t.c_str())));
  const int warmup = quick ? 1 : 3;
  if (quick) iters = 1;

  std::vector<json> other;
  std::string other_name;
  if (!compare_path.empty()) {
    try {
      other = ember::bench::read_json_lines(compare_path);
    } catch (const ember::Error& e) {
      std::cerr << e.what() << "\n";
      return 2;
    }
    other_name = other.empty() ? "other" : other.front().value("framework", "other");
  }

  std::vector<json> results;
  int failures = 0;
  const std::vector<std::string> modes = split_list(mode_list);
  for (const auto& mode : modes) {
    if (mode != "eager" && mode != "compiled") {
      std::cerr << "ember-bench: unknown mode '" << mode << "' (eager, compiled)\n";
      return 2;
    }
  }
  // The modes of one (workload, threads) run back to back, so that the
  // machine's slow drifts (it is a shared VM) fall on both sides of a ratio;
  // with --rounds N they alternate N times and the run with the median
  // median is reported.
  for (const auto* w : selected) {
    for (int t : threads) {
      std::map<std::string, std::vector<json>> runs;
      for (int round = 0; round < rounds; ++round) {
        std::vector<std::string> order =
            modes;  // every other round in reverse: neither mode always goes first
        if (round % 2 == 1) std::reverse(order.begin(), order.end());
        for (const auto& mode : order)
          if (auto line = run_in_child(*w, mode, t, warmup, iters, failures))
            runs[mode].push_back(std::move(*line));
      }
      for (const auto& mode : modes) {
        std::vector<json>& lines = runs[mode];
        if (lines.empty()) continue;
        std::sort(lines.begin(), lines.end(), [](const json& a, const json& b) {
          return a["median_ms"].get<double>() < b["median_ms"].get<double>();
        });
        json line = lines[lines.size() / 2];
        line["rounds"] = static_cast<int>(lines.size());
        std::cout << line.dump() << "\n" << std::flush;
        results.push_back(line);
      }
    }
  }

  std::fprintf(stderr, "\n%-14s %-8s %7s %11s %11s %9s  %s\n", "workload", "mode", "threads", "median ms",
               "min ms", "rss MB", "notes");
  for (const auto& r : results) {
    std::string notes;
    if (r.contains("us_per_op")) notes = "us/op " + std::to_string(r["us_per_op"].get<double>());
    if (r.contains("us_per_op_grad_mode"))
      notes += " (grad mode " + std::to_string(r["us_per_op_grad_mode"].get<double>()) + ")";
    if (r.contains("compile_ms"))
      notes += " compile " + std::to_string(r["compile_ms"].get<double>()) + " ms";
    if (r.contains("gb_per_s")) notes = "GB/s " + std::to_string(r["gb_per_s"].get<double>());
    if (r.contains("fraction_of_blas"))
      notes = "GFLOP/s " + std::to_string(r["gflops"].get<double>()) + ", " +
              std::to_string(100 * r["fraction_of_blas"].get<double>()) + "% of the sgemm alone";
    std::fprintf(stderr, "%-14s %-8s %7d %11.3f %11.3f %9.1f  %s\n", r["workload"].get<std::string>().c_str(),
                 r["mode"].get<std::string>().c_str(), r["threads"].get<int>(), r["median_ms"].get<double>(),
                 r["min_ms"].get<double>(), r["peak_rss_mb"].get<double>(), notes.c_str());
  }
  const auto rows = ember::bench::make_rows(results, other);
  std::cerr << "\ndynamic (eager) against static (compiled):\n" << ember::bench::table(rows, other_name);
  if (!svg_path.empty()) {
    try {
      ember::write_file_atomically(
          svg_path, [&](std::ostream& o) { o << ember::bench::svg(rows, other_name); }, "ember-bench --svg");
      std::cerr << "chart written to " << svg_path << "\n";
    } catch (const ember::Error& e) {
      std::cerr << e.what() << "\n";
      return 1;
    }
  }
  return failures ? 1 : 0;
}
