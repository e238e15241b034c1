// What every benchmark shares: a wall-clock timer, the median, and a description of the machine
// (CPU, threads, load), printed first so a result never travels without its machine.
#pragma once

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace mone::bench {

// Wall-clock seconds of one call.
inline double seconds(const std::function<void()>& fn) {
  const auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

inline double median(std::vector<double> t) {
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// The command line of a benchmark that takes only [--runs N]: sets *runs (at least 1) and returns
// true, or prints the usage and returns false on anything else.
inline bool parse_runs(int argc, char** argv, int* runs) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      *runs = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--runs N]\n", argv[0]);
      return false;
    }
  }
  return true;
}

// "model name" from /proc/cpuinfo.
inline std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// "- CPU: ...; N hardware threads, OpenMP threads: M; load average at start a (1 min), b (5 min)".
// Other work on the machine skews timings, so the load is part of every report.
inline void print_machine_line() {
  std::ifstream load("/proc/loadavg");
  std::string one, five;
  load >> one >> five;
  std::printf("- CPU: %s; %u hardware threads, OpenMP threads: %d; load average at start %s (1 min), %s (5 min)\n",
              cpu_model().c_str(), std::thread::hardware_concurrency(), omp_get_max_threads(), one.c_str(),
              five.c_str());
}

}  // namespace mone::bench
