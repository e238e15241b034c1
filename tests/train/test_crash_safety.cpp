// Crash safety of `mone train` (docs/RELIABILITY.md):
//   - killed with SIGKILL at random (seeded) moments while it checkpoints every step, and resumed
//     after each kill, a run ends bit for bit where an uninterrupted run ends; after every kill,
//     every checkpoint directory on disk is complete (its manifest verifies);
//   - a full disk (RLIMIT_FSIZE: writes fail with EFBIG) and an unwritable run directory make
//     training fail with an error naming the file, and leave the last good checkpoint intact.
// The kill moments are fractions of an uninterrupted run's duration; what is asserted holds for
// any moment, so the timing of the machine changes only where the kills land.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "train/checkpoint/checkpoint_dir.h"
#include "trainer_test_util.h"

namespace mone::train {
namespace {

using namespace trainer_testing;
using mone_testing::ChildLimits;
using mone_testing::kChildSetupFailed;
using mone_testing::start_mone;
using mone_testing::wait_mone;

// Every checkpoint directory verifies, and `latest`, when present, names one of them: a reader
// can never meet a partial checkpoint.
void require_only_complete_checkpoints(const std::string& run_dir) {
  for (const std::string& dir : list_checkpoints(run_dir)) {
    const Status verified = verify_checkpoint(dir);
    CHECK_MESSAGE(verified.ok(), verified);
  }
  const std::string latest = read_text(run_dir + "/latest");
  if (!latest.empty()) {
    CHECK(std::filesystem::is_directory(run_dir + "/" + latest.substr(0, latest.find('\n'))));
  }
}

// name -> bytes of every file in a checkpoint directory.
std::map<std::string, std::string> files_of(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    files[entry.path().filename().string()] = read_text(entry.path().string());
  }
  return files;
}

TEST_SUITE("unit") {
  TEST_CASE("crash safety: SIGKILL at seeded random moments, resumed each time, ends bit for bit as a straight run") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path(), "steps: 24\ncheckpoint_interval: 1\nkeep_checkpoints: 2\n");
    const std::string straight = dir.file("straight"), crashed = dir.file("crashed");

    const auto t0 = std::chrono::steady_clock::now();
    CommandResult a = run_mone("train --config " + spec + " --run-dir " + straight);
    const std::chrono::duration<double> straight_time = std::chrono::steady_clock::now() - t0;
    REQUIRE_MESSAGE(a.exit_code == 0, a.output);

    std::mt19937 gen(20240601);
    std::uniform_real_distribution<double> fraction(0.05, 0.5);
    const std::string log = dir.file("crashed.log");
    int kills = 0;
    bool finished = false;
    for (int attempt = 0; attempt < 40 && !finished; ++attempt) {
      // As a user would: --resume once there is a checkpoint to resume from.
      const std::string resume = has_checkpoints(crashed) ? " --resume" : "";
      const pid_t pid = start_mone("train --config " + spec + " --run-dir " + crashed + resume, log);
      if (attempt < 30) {  // then let it finish
        std::this_thread::sleep_for(fraction(gen) * straight_time);
        ::kill(pid, SIGKILL);  // a child that already exited is a zombie: the kill does nothing
      }
      const int code = wait_mone(pid);
      REQUIRE_MESSAGE((code == 0 || code == 128 + SIGKILL), "exit code ", code, ": ", read_text(log));
      finished = code == 0;
      kills += code == 128 + SIGKILL;
      require_only_complete_checkpoints(crashed);
    }
    REQUIRE(finished);
    MESSAGE(kills << " kills before the run finished; the straight run took " << straight_time.count() << " s");
    CHECK(kills >= 1);
    require_same_run(straight, crashed, 24);
    CHECK(list_checkpoints(crashed).size() == 2);  // keep_checkpoints held through the kills
  }

  TEST_CASE("crash safety: a run killed after its last checkpoint but before pruning keeps keep_checkpoints on resume") {
    // What such a kill leaves: the finished run's checkpoints, one more than keep_checkpoints (here
    // made by a run that kept them all). Resuming finds nothing to train and prunes.
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path(), "steps: 3\ncheckpoint_interval: 1\nkeep_checkpoints: 0\n");
    const std::string run = dir.file("run");
    REQUIRE(run_mone("train --config " + spec + " --run-dir " + run).exit_code == 0);
    REQUIRE(list_checkpoints(run).size() == 3);
    write_tiny_setup(dir.path(), "steps: 3\ncheckpoint_interval: 1\nkeep_checkpoints: 2\n");
    const CommandResult again = run_mone("train --config " + spec + " --run-dir " + run + " --resume");
    REQUIRE_MESSAGE(again.exit_code == 0, again.output);
    CHECK(list_checkpoints(run) == std::vector<std::string>{run + "/step_00000002", run + "/step_00000003"});
  }

  TEST_CASE("crash safety: a run killed before its first checkpoint starts over with a clean metrics log") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path(), "steps: 3\neval_interval: 2\n");
    const std::string straight = dir.file("straight"), run = dir.file("run");
    REQUIRE(run_mone("train --config " + spec + " --run-dir " + straight).exit_code == 0);
    // What an attempt killed after logging step 1 leaves: a log (its last line torn) and no checkpoint.
    const std::string log = read_text(straight + "/metrics.jsonl");
    const size_t two_lines = log.find('\n', log.find('\n') + 1) + 1;
    std::filesystem::create_directories(run);
    write_text(run + "/metrics.jsonl", log.substr(0, two_lines) + "{\"step\": 2, \"lo");
    REQUIRE_FALSE(has_checkpoints(run));

    CommandResult again = run_mone("train --config " + spec + " --run-dir " + run);
    REQUIRE_MESSAGE(again.exit_code == 0, again.output);
    CHECK(require_same_run(straight, run, 3).size() == 6);  // three steps; evaluations at 0, 2 and the end
  }

  TEST_CASE("crash safety: a full disk fails the checkpoint, names the file, and leaves the last good one intact") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path(), "steps: 6\ncheckpoint_interval: 1\neval_interval: 0\n");
    const std::string straight = dir.file("straight"), run = dir.file("run");
    REQUIRE(run_mone("train --config " + spec + " --run-dir " + straight).exit_code == 0);
    REQUIRE(run_mone("train --config " + spec + " --run-dir " + run + " --stop-after 3").exit_code == 0);
    const std::string last = run + "/step_00000003";
    const auto before = files_of(last);
    REQUIRE(before.at(kModelFileName).size() > 64 * 1024);

    // Files may not grow past 64 KiB: model.safetensors of step 4 cannot be written.
    const std::string log = dir.file("full.log");
    const pid_t pid = start_mone("train --config " + spec + " --run-dir " + run + " --resume", log,
                                 ChildLimits{.max_file_bytes = 64 * 1024});
    CHECK(wait_mone(pid) == 1);
    const std::string output = read_text(log);
    CHECK_MESSAGE(output.find(run + "/.tmp-step_00000004/model.safetensors.tmp") != std::string::npos, output);
    CHECK_MESSAGE(output.find("File too large") != std::string::npos, output);

    CHECK(files_of(last) == before);
    CHECK(read_text(run + "/latest") == "step_00000003\n");
    CHECK(list_checkpoints(run) == std::vector<std::string>{run + "/step_00000001", run + "/step_00000002", last});
    CHECK_FALSE(std::filesystem::exists(run + "/.tmp-step_00000004"));
    require_only_complete_checkpoints(run);

    // With room again, the run resumes from step 3 and ends as if nothing had happened.
    CommandResult resumed = run_mone("train --config " + spec + " --run-dir " + run + " --resume");
    REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.output);
    require_same_run(straight, run, 6);
  }

  TEST_CASE("crash safety: an unwritable run directory fails with its name and leaves the checkpoints intact") {
    ScratchDir dir;
    const std::string spec = write_tiny_setup(dir.path(), "steps: 4\ncheckpoint_interval: 1\neval_interval: 0\n");
    const std::string run = dir.file("run");
    REQUIRE(run_mone("train --config " + spec + " --stop-after 2").exit_code == 0);
    const auto before = files_of(run + "/step_00000002");

    // Read-only for everyone; root ignores modes, so the child then runs as nobody.
    namespace fs = std::filesystem;
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                    fs::perms::others_read | fs::perms::others_exec);
    fs::permissions(run, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                             fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
    const std::string log = dir.file("readonly.log");
    write_text(log, "");
    fs::permissions(log, fs::perms::all & ~(fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec));
    const int code = wait_mone(start_mone("train --config " + spec + " --resume", log, ChildLimits{.unprivileged = true}));
    fs::permissions(run, fs::perms::owner_all, fs::perm_options::add);
    const std::string output = read_text(log);
    if (code == kChildSetupFailed) {
      MESSAGE("skipped: cannot run mone as an unprivileged user here (" << output << ")");
      return;
    }
    CHECK(code == 1);
    CHECK_MESSAGE(output.find(run + "/") != std::string::npos, output);
    CHECK_MESSAGE(output.find("Permission denied") != std::string::npos, output);
    CHECK(files_of(run + "/step_00000002") == before);
    CHECK(read_text(run + "/latest") == "step_00000002\n");
    require_only_complete_checkpoints(run);
    CHECK(value_or_die(find_resumable_checkpoint(run)) == run + "/step_00000002");
  }
}

}  // namespace
}  // namespace mone::train
