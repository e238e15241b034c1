// Data-parallel training under mpirun, against one process:
//  - 2 ranks (2 rows each) give the losses and weights of 1 rank (4 rows), within rounding;
//  - with the batch-level auxiliary losses on, 2 ranks equal 1 rank accumulating the same halves;
//  - a checkpoint written by 2 ranks resumes on 1 and on 4; ZeRO-1 gives the same bits as plain
//    data parallelism and its checkpoints hold the full optimizer state; so does overlapping the
//    all-reduces with the backward;
//  - a rank that dies or hangs stops the others with a message, within a timeout; a signal to one
//    rank stops all of them with a checkpoint.
//
// Tolerance. The runs differ only in the order of floating-point sums: the CE mean over 64 tokens
// against the mean of two means over 32, and each weight gradient's sum over 64 rows against two
// sums over 32 added after the all-reduce. f32 rounding (2^-24 ≈ 6e-8 relative per operation) then
// moves the losses by about one unit in the last place and the weights by far less than an update
// (lr = 3e-3). Measured here: losses at most 2.4e-7 apart (near 4: 6e-8 relative), weights at most
// 1.7e-7 after 12 steps. We assert 1e-5 relative on losses and gradient norms and 1e-5 absolute on
// the weights: about 50× the rounding seen, and over 1000× below what a wrong share of the data
// does (training on half of each batch, rows 0-1 only, moves the step-1 loss by 0.02 and the
// weights by 0.04 after 12 steps).
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include "mpi_test_util.h"
#include "tests/train/trainer_test_util.h"
#include "train/checkpoint/safetensors.h"
#include "train/checkpointing.h"

namespace mone::dist {
namespace {

using namespace testing;
using namespace train::trainer_testing;

constexpr double kLossTolerance = 1e-5;    // relative
constexpr double kWeightTolerance = 1e-5;  // absolute

// The tiny setup of the trainer tests (B 4, T 16, 12 steps, evaluations at 0, 4, 8, 12), with the
// batch-level auxiliary losses (load balance, neuron balance) off unless `aux`: they are
// statistics of each rank's rows, not of the whole batch (docs/DISTRIBUTED.md).
std::string tiny_setup(const ScratchDir& dir, const std::string& extra = "", bool aux = false) {
  const std::string spec = write_tiny_setup(dir.path(), extra);
  if (!aux) {
    std::ofstream(dir.file("model.textproto"), std::ios::app) << "router_aux_loss_coef: 0\nneuron_aux_loss_coef: 0\n";
  }
  return spec;
}

bool close(double a, double b) { return std::abs(a - b) <= kLossTolerance * std::max(1.0, std::abs(a)); }

// Every record of two metrics.jsonl agrees: counts and schedule exactly, losses within tolerance.
// The balance losses are statistics of each micro-batch (of each rank's rows): they are compared
// only when both runs cut the batch the same way (same_micro_batches); their evaluations then
// differ too (other eval batch sizes), so only training records are compared.
void check_same_metrics(const std::string& a_path, const std::string& b_path, bool same_micro_batches = false) {
  const auto a = read_metrics(a_path), b = read_metrics(b_path);
  REQUIRE(a.size() == b.size());
  REQUIRE(a.size() > 2);
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("line ", i, ": ", a[i].dump(), "\n   vs: ", b[i].dump());
    CHECK(a[i]["step"] == b[i]["step"]);
    if (a[i].contains("val_loss")) {
      if (same_micro_batches) continue;
      for (const char* k : {"val_loss", "val_total_loss", "val_z_loss"}) CHECK(close(a[i][k], b[i][k]));
      CHECK(a[i]["val_tokens"] == b[i]["val_tokens"]);
      continue;
    }
    for (const char* k : {"tokens", "lr", "skipped", "expert_load"}) CHECK(a[i][k] == b[i][k]);
    for (const char* k : {"loss", "ce", "z_loss", "grad_norm"}) CHECK(close(a[i][k], b[i][k]));
    if (same_micro_batches) {
      for (const char* k : {"load_balance", "neuron_loss"}) CHECK(close(a[i][k], b[i][k]));
    }
  }
}

// The largest |a - b| over every tensor of two safetensors files with the same names and shapes.
double max_difference(const std::string& a_path, const std::string& b_path) {
  auto a = train::read_safetensors(a_path);
  auto b = train::read_safetensors(b_path);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a->names == b->names);
  double worst = 0;
  for (const auto& name : a->names) {
    const auto x = a->tensors.at(name).to_vector<double>(), y = b->tensors.at(name).to_vector<double>();
    REQUIRE(x.size() == y.size());
    for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  }
  return worst;
}

TEST_SUITE("e2e") {
  TEST_CASE("2 ranks give 1 rank's losses, evaluations and weights within rounding") {
    if (!mpi_available()) return;
    ScratchDir dir;
    const std::string spec = tiny_setup(dir);
    const CommandResult one = run_mone("train --config " + spec + " --run-dir " + dir.file("one"));
    REQUIRE_MESSAGE(one.exit_code == 0, one.output);
    const CommandResult two = mpirun_mone(2, "train --config " + spec + " --run-dir " + dir.file("two"));
    REQUIRE_MESSAGE(two.exit_code == 0, two.output);
    CHECK(two.output.find("data parallel: 2 ranks (MPI), 2 sequences each") != std::string::npos);
    // Rank 0 alone speaks: one final line, not two.
    CHECK(two.output.find("done at step 12/12") == two.output.rfind("done at step 12/12"));

    check_same_metrics(dir.file("one/metrics.jsonl"), dir.file("two/metrics.jsonl"));
    const double dw = max_difference(dir.file("one/step_00000012/model.safetensors"),
                                     dir.file("two/step_00000012/model.safetensors"));
    MESSAGE("largest weight difference after 12 steps: ", dw);
    CHECK(dw < kWeightTolerance);
    CHECK(max_difference(dir.file("one/step_00000012/optimizer.safetensors"),
                         dir.file("two/step_00000012/optimizer.safetensors")) < kWeightTolerance);
    auto state = train::read_trainer_state(dir.file("two/step_00000012"));
    REQUIRE(state.ok());
    CHECK(state->data_position == 12);  // global batches
    CHECK(state->tokens_seen == 12 * 4 * 16);
  }

  TEST_CASE("with the balance losses on, 2 ranks equal 1 rank accumulating the same two halves") {
    if (!mpi_available()) return;
    ScratchDir dir;
    const std::string spec = tiny_setup(dir, "", /*aux=*/true);
    // 1 rank: micro-batches of 2 rows, 2 per step = windows 4j..4j+3 of the epoch's order, as the
    // 2 ranks' rows 0-1 and 2-3 of global batch j.
    const CommandResult one = run_mone("train --config " + spec + " --run-dir " + dir.file("one") +
                                       " --batch-size 2 --set grad_accum_steps=2");
    REQUIRE_MESSAGE(one.exit_code == 0, one.output);
    const CommandResult two = mpirun_mone(2, "train --config " + spec + " --run-dir " + dir.file("two"));
    REQUIRE_MESSAGE(two.exit_code == 0, two.output);
    check_same_metrics(dir.file("one/metrics.jsonl"), dir.file("two/metrics.jsonl"), /*same_micro_batches=*/true);
    CHECK(max_difference(dir.file("one/step_00000012/model.safetensors"),
                         dir.file("two/step_00000012/model.safetensors")) < kWeightTolerance);
  }

  TEST_CASE("a checkpoint written by 2 ranks resumes on 1 rank and on 4 ranks") {
    if (!mpi_available()) return;
    ScratchDir dir;
    const std::string spec = tiny_setup(dir);
    REQUIRE(run_mone("train --config " + spec + " --run-dir " + dir.file("straight")).exit_code == 0);
    const CommandResult half = mpirun_mone(2, "train --config " + spec + " --run-dir " + dir.file("on1") +
                                                  " --stop-after 6");
    REQUIRE_MESSAGE(half.exit_code == 0, half.output);
    std::filesystem::copy(dir.file("on1"), dir.file("on4"), std::filesystem::copy_options::recursive);

    const CommandResult on1 = run_mone("train --resume " + dir.file("on1"));
    REQUIRE_MESSAGE(on1.exit_code == 0, on1.output);
    const CommandResult on4 = mpirun_mone(4, "train --resume " + dir.file("on4"));
    REQUIRE_MESSAGE(on4.exit_code == 0, on4.output);
    CHECK(on4.output.find("resuming from") != std::string::npos);
    CHECK(on4.output.find("data parallel: 4 ranks (MPI), 1 sequences each") != std::string::npos);

    for (const char* run : {"on1", "on4"}) {
      INFO(run);
      check_same_metrics(dir.file("straight/metrics.jsonl"), dir.file(std::string(run) + "/metrics.jsonl"));
      CHECK(max_difference(dir.file("straight/step_00000012/model.safetensors"),
                           dir.file(std::string(run) + "/step_00000012/model.safetensors")) < kWeightTolerance);
      auto state = train::read_trainer_state(dir.file(std::string(run) + "/step_00000012"));
      REQUIRE(state.ok());
      CHECK(state->data_position == 12);
    }
  }

  TEST_CASE("ZeRO-1: the same bits as plain data parallelism; checkpoints hold the full optimizer state") {
    if (!mpi_available()) return;
    ScratchDir dir;
    const std::string spec = tiny_setup(dir);
    const CommandResult plain = mpirun_mone(2, "train --config " + spec + " --run-dir " + dir.file("plain"));
    REQUIRE_MESSAGE(plain.exit_code == 0, plain.output);
    // ZeRO-1 for 6 steps, then resumed with ZeRO-1: the sharded moments are gathered on save and
    // split again on load.
    const std::string zero = " --run-dir " + dir.file("zero") + " --set shard_optimizer_state=true";
    const CommandResult a = mpirun_mone(2, "train --config " + spec + zero + " --stop-after 6");
    REQUIRE_MESSAGE(a.exit_code == 0, a.output);
    CHECK(a.output.find("optimizer state sharded (ZeRO-1)") != std::string::npos);
    const CommandResult b = mpirun_mone(2, "train --config " + spec + zero + " --resume");
    REQUIRE_MESSAGE(b.exit_code == 0, b.output);
    for (const char* file : {"step_00000010/model.safetensors", "step_00000010/optimizer.safetensors",
                             "step_00000012/model.safetensors", "step_00000012/optimizer.safetensors"}) {
      INFO(file);
      const std::string p = read_text(dir.file(std::string("plain/") + file));
      CHECK(!p.empty());
      CHECK(p == read_text(dir.file(std::string("zero/") + file)));
    }
    // The full state: every parameter's m and v (a rank's share alone would fail this load).
    const CommandResult single = run_mone("train --resume " + dir.file("zero") + " --steps 13");
    CHECK_MESSAGE(single.exit_code == 0, single.output);
  }

  TEST_CASE("all-reduces overlapped with the backward: the same bits, with accumulation, many buckets and ZeRO-1") {
    if (!mpi_available()) return;
    ScratchDir dir;
    const std::string spec = tiny_setup(dir);
    // 1 KiB buckets: dozens of them, started in the backward as their gradients become final; two
    // micro-batches: only the second backward hands its gradients over.
    const std::string common = " --set grad_bucket_mb=0.001 --set grad_accum_steps=2 --steps 6";
    const CommandResult after =
        mpirun_mone(2, "train --config " + spec + common + " --run-dir " + dir.file("after"));
    REQUIRE_MESSAGE(after.exit_code == 0, after.output);
    CHECK(after.output.find("during the backward") == std::string::npos);  // MPI's default: after it
    const CommandResult during = mpirun_mone(
        2, "train --config " + spec + common + " --set overlap_grad_reduce=true --run-dir " + dir.file("during"));
    REQUIRE_MESSAGE(during.exit_code == 0, during.output);
    CHECK(during.output.find("gradient buckets all-reduced during the backward") != std::string::npos);
    // With ZeRO-1 as well: the same bits again.
    const CommandResult zero = mpirun_mone(2, "train --config " + spec + common +
                                                  " --set overlap_grad_reduce=true --set shard_optimizer_state=true"
                                                  " --run-dir " + dir.file("zero"));
    REQUIRE_MESSAGE(zero.exit_code == 0, zero.output);
    for (const char* file : {"step_00000006/model.safetensors", "step_00000006/optimizer.safetensors"}) {
      INFO(file);
      const std::string a = read_text(dir.file(std::string("after/") + file));
      CHECK(!a.empty());
      CHECK(a == read_text(dir.file(std::string("during/") + file)));
      CHECK(a == read_text(dir.file(std::string("zero/") + file)));
    }
  }

  TEST_CASE("a batch that does not split over the ranks is refused, naming both numbers") {
    if (!mpi_available()) return;
    ScratchDir dir;
    const CommandResult r = mpirun_mone(3, "train --config " + tiny_setup(dir) + " --run-dir " + dir.file("run"));
    CHECK(r.exit_code != 0);
    CHECK_MESSAGE(r.output.find("batch_size 4 does not split over 3 ranks") != std::string::npos, r.output);
    CHECK(r.output.find("mone train (MPI rank ") != std::string::npos);
  }
}

// ---- failures: a background `mpirun -np 2 mone train` of many steps, and rank 1 signalled ----

// The pid of the mone process of rank `rank` whose command line mentions `marker`; 0 if none.
pid_t find_rank(const std::string& marker, int rank) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_text(entry.path() / "cmdline"), environ = read_text(entry.path() / "environ");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find("/bin/mone ") == std::string::npos || cmdline.find(marker) == std::string::npos) continue;
    if (environ.find("OMPI_COMM_WORLD_RANK=" + std::to_string(rank) + '\0') != std::string::npos) return std::stoi(pid);
  }
  return 0;
}

// Waits until `path` holds at least `lines` lines, or `seconds` pass; returns whether it did.
bool wait_for_lines(const std::string& path, size_t lines, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = read_text(path);
    if (static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) >= lines) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// Starts `mpirun -np 2 mone train` of a million steps of the tiny setup in dir (run directory
// dir/run, plus `extra` flags) in the background, waits until it has logged 3 steps, sends `sig` to
// rank 1 and waits at most 60 s for mpirun to end (what is left is killed, and the test fails).
CommandResult signal_rank_1(const ScratchDir& dir, const std::string& extra, int sig) {
  const std::string run = dir.file("run"), rc = dir.file("rc"), log = dir.file("log");
  const std::string command = "( " + mpirun(2) + mone_testing::mone_binary() + " train --config " + tiny_setup(dir) +
                              " --run-dir " + run + " --steps 1000000 --set eval_interval=0 " + extra + " > " + log +
                              " 2>&1; echo $? > " + rc + " ) &";
  REQUIRE(std::system(command.c_str()) == 0);
  REQUIRE_MESSAGE(wait_for_lines(run + "/metrics.jsonl", 3, 60), read_text(log));
  const pid_t victim = find_rank(run, 1);
  REQUIRE(victim > 0);
  REQUIRE(::kill(victim, sig) == 0);
  const bool ended = wait_for_lines(rc, 1, 60);
  for (int rank = 0; !ended && rank < 2; ++rank) {
    if (pid_t pid = find_rank(run, rank)) ::kill(pid, SIGKILL);
  }
  REQUIRE_MESSAGE(ended, "mpirun still running 60 s after rank 1 was signalled:\n" << read_text(log));
  CHECK(find_rank(run, 0) == 0);  // nothing left running
  CHECK(find_rank(run, 1) == 0);
  return {std::stoi(read_text(rc)), read_text(log)};
}

TEST_SUITE("e2e") {
  TEST_CASE("a rank that dies or hangs makes the others stop with a message, within a timeout") {
    if (!mpi_available()) return;
    {
      ScratchDir dir;
      const CommandResult killed = signal_rank_1(dir, "", SIGKILL);
      INFO(killed.output);
      CHECK(killed.exit_code != 0);
      CHECK(killed.output.find("rank 1") != std::string::npos);
      CHECK(killed.output.find("signal 9") != std::string::npos);  // mpirun: "... exited on signal 9 (Killed)"
    }
    {
      // A stopped rank never answers: rank 0's watchdog ends it after collective_timeout_s.
      ScratchDir dir;
      const CommandResult hung = signal_rank_1(dir, "--set collective_timeout_s=2", SIGSTOP);
      INFO(hung.output);
      CHECK(hung.exit_code != 0);
      CHECK(hung.output.find("mone: MPI rank 0 of 2: ") != std::string::npos);
      CHECK(hung.output.find("did not complete within 2 s (collective_timeout_s)") != std::string::npos);
    }
  }

  TEST_CASE("SIGTERM to one rank stops every rank at the end of the same step, with a checkpoint") {
    if (!mpi_available()) return;
    ScratchDir dir;
    const CommandResult stopped = signal_rank_1(dir, "", SIGTERM);
    INFO(stopped.output);
    CHECK(stopped.exit_code == 0);
    CHECK(stopped.output.find("stopped (a signal to another rank)") != std::string::npos);
    // The checkpoint is of the last logged step: both ranks stopped there.
    const auto metrics = read_metrics(dir.file("run/metrics.jsonl"));
    const int64_t last = metrics.back()["step"];
    char name[32];
    std::snprintf(name, sizeof name, "run/step_%08lld", static_cast<long long>(last));
    auto state = train::read_trainer_state(dir.file(name));
    REQUIRE(state.ok());
    CHECK(state->data_position == static_cast<uint64_t>(last));
  }
}

}  // namespace
}  // namespace mone::dist
