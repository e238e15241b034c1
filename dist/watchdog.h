// A watchdog for blocking calls that cannot be interrupted (a blocking MPI collective waits forever
// for a rank that died without its transport noticing, e.g. over shared memory).
//
// arm(what, seconds) before the call, disarm() after. A background thread checks the deadline
// every 50 ms; when an armed call outlasts it, the thread prints "<what> did not complete within
// N s ..." to stderr and ends the process with _Exit(1) (no MPI call from that thread: MPI runs
// MPI_THREAD_FUNNELED). The launcher (mpirun) sees a rank exit without MPI_Finalize and ends the
// job. Arming and disarming cost two atomic stores and a short string copy: nothing per element.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace mone::dist {

class Watchdog {
 public:
  Watchdog();
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // `what` names the call and the process in the message ("MPI rank 1 of 2: all_reduce_sum of ...").
  void arm(const std::string& what, double seconds);
  void disarm();

 private:
  void watch();

  std::mutex mutex_;               // guards what_ and seconds_
  std::string what_;
  double seconds_ = 0;
  std::atomic<int64_t> deadline_ns_{0};  // steady_clock nanoseconds; 0: disarmed
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace mone::dist
