#include "dist/watchdog.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace mone::dist {
namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Watchdog::Watchdog() : thread_([this] { watch(); }) {}

Watchdog::~Watchdog() {
  stop_ = true;
  thread_.join();
}

void Watchdog::arm(const std::string& what, double seconds) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    what_ = what;
    seconds_ = seconds;
  }
  deadline_ns_ = now_ns() + static_cast<int64_t>(seconds * 1e9);
}

void Watchdog::disarm() { deadline_ns_ = 0; }

void Watchdog::watch() {
  while (!stop_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const int64_t deadline = deadline_ns_;
    if (deadline == 0 || now_ns() < deadline) continue;
    std::lock_guard<std::mutex> lock(mutex_);
    if (deadline_ns_ != deadline) continue;  // disarmed (or re-armed) meanwhile
    std::fprintf(stderr,
                 "mone: %s did not complete within %g s (collective_timeout_s): another rank died, hangs, or is that "
                 "much slower; ending this rank (the launcher ends the others)\n",
                 what_.c_str(), seconds_);
    std::fflush(stderr);
    std::_Exit(1);
  }
}

}  // namespace mone::dist
