// scripts/gpu_check.sh is the one way a GPU machine runs mone's cuda tests and benchmarks, and a
// build machine has no GPU to try it on. These tests run it on a fake bundle (shell scripts in the
// place of the binaries, a fake nvidia-smi and empty cuBLAS/cuRAND files), so its own logic runs
// here: the time budget, the pass/fail verdict, the bench and train rows and the final table.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/run_mone.h"
#include "tests/temp_dir.h"

namespace {

using mone_testing::CommandResult;
using mone_testing::run_shell;
using mone_testing::TempDir;
namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& text, bool executable = false) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
  if (executable) fs::permissions(path, fs::perms::owner_all, fs::perm_options::add);
}

// A bundle whose test binaries pass (test_b fails when FAKE_FAIL is set), whose benchmark reports
// one timed op and whose `mone bench train` prints the JSON line gpu_check.sh reads.
void make_fake_bundle(const fs::path& root) {
  const fs::path files = root / "files";
  write_file(files / "bin/test_a",
             "#!/bin/sh\nprintf 'matmul\\tbf16\\t0.001\\t0.01\\n' >> \"$MONE_CUDA_REPORT\"\n"
             "echo '[doctest] test cases: 1 | 1 passed'\n",
             true);
  write_file(files / "bin/test_b",
             "#!/bin/sh\n[ -n \"$FAKE_FAIL\" ] && { echo 'test_b: a check failed'; exit 3; }\n"
             "printf 'matmul\\tbf16\\t0.004\\t0.01\\n' >> \"$MONE_CUDA_REPORT\"\necho ok\n",
             true);
  write_file(files / "bin/mone_bench_cuda",
             "#!/bin/sh\necho '# mone_bench_cuda'\nprintf 'matmul\\tbf16\\t0.5\\t1024^3\\n' >> \"$MONE_BENCH_REPORT\"\n",
             true);
  write_file(files / "bin/mone",
             "#!/bin/sh\necho '{\"step_s\": 0.25, \"tokens_per_s\": 65536, \"mfu\": 0.41, \"peak_flops\": 7.9e14,"
             " \"peak_flops_how\": \"measured\", \"cuda_peak_memory_bytes\": 2147483648}'\n",
             true);
  write_file(files / "SOURCE_DIR", root.string() + "\n");
  write_file(files / "BINARY_DIR", root.string() + "\n");
  write_file(files / "COMMIT", "fake\n");
  fs::create_directories(files / "lib");
  for (const char* lib : {"libcublas.so.13", "libcublasLt.so.13", "libcurand.so.10"}) {
    write_file(root / "cuda_libs" / lib, "");
  }
  write_file(root / "path/nvidia-smi", "#!/bin/sh\necho 'NVIDIA H200, 570.00, 143771 MiB'\n", true);
  fs::create_directories(root / "bundle");
  REQUIRE(run_shell("tar -C '" + files.string() + "' -czf '" + (root / "bundle/mone_gpu_bundle.tar.gz").string() +
                    "' .")
              .exit_code == 0);
}

CommandResult run_gpu_check(const fs::path& root, const std::string& env) {
  return run_shell("cd / && env PATH='" + (root / "path").string() + ":'\"$PATH\" MONE_GPU_BUNDLE='" +
                   (root / "bundle").string() + "' MONE_GPU_CUDA_LIBS='" + (root / "cuda_libs").string() +
                   "' MONE_GPU_UNPACK='" + (root / "unpacked").string() + "' OUT='" +
                   (root / "out").string() + "' " + env + " bash '" MONE_SOURCE_DIR
                   "/scripts/gpu_check.sh'");
}

using mone_testing::contains;

TEST_SUITE("unit") {
  TEST_CASE("gpu_check.sh on a fake bundle: every test passes, the bench and train rows reach one table") {
    TempDir dir;
    make_fake_bundle(fs::path(dir.path()));
    const CommandResult r = run_gpu_check(fs::path(dir.path()), "");
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.output, "gpu_check: bundle of commit fake"));
    CHECK(contains(r.output, "NVIDIA H200"));
    // Two checks of matmul bf16: the larger error, its tolerance, the count and the timed row.
    CHECK(contains(r.output, "| matmul | bf16 | 4.00e-03 | 1e-02 | 2 | 0.5000 | 1024^3 |"));
    CHECK(contains(r.output, "mone-925m: step 250.0 ms, 65536 tokens/s, MFU 0.410"));
    CHECK(contains(r.output, "| train step mone-2.81b | bf16 |"));
    CHECK(contains(r.output, "gpu_check: every cuda test passed"));
    CHECK(fs::exists(fs::path(dir.path()) / "out/gpu_check.log"));
  }

  TEST_CASE("gpu_check.sh fails when a test binary fails, and when its time is spent") {
    TempDir dir;
    make_fake_bundle(fs::path(dir.path()));
    const CommandResult failed = run_gpu_check(fs::path(dir.path()), "FAKE_FAIL=1");
    INFO(failed.output);
    CHECK(failed.exit_code != 0);
    CHECK(contains(failed.output, "gpu_check: test_b FAILED (exit 3)"));
    CHECK(contains(failed.output, "FAILURES above"));

    const CommandResult no_time = run_gpu_check(fs::path(dir.path()), "MONE_GPU_CHECK_SECONDS=0");
    INFO(no_time.output);
    CHECK(no_time.exit_code != 0);
    CHECK(contains(no_time.output, "gpu_check: no time left for test_a"));
    CHECK(contains(no_time.output, "gpu_check: no time left for mone_bench_cuda"));
  }

  TEST_CASE("gpu_check.sh without a bundle or without a GPU says so") {
    TempDir dir;
    const CommandResult no_bundle = run_gpu_check(fs::path(dir.path()), "");
    CHECK(no_bundle.exit_code != 0);
    CHECK(contains(no_bundle.output, "run scripts/gpu_bundle.sh on the build machine"));

    make_fake_bundle(fs::path(dir.path()));
    write_file(fs::path(dir.path()) / "path/nvidia-smi", "#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n", true);
    const CommandResult no_gpu = run_gpu_check(fs::path(dir.path()), "");
    CHECK(no_gpu.exit_code != 0);
    CHECK(contains(no_gpu.output, "nvidia-smi failed: no GPU visible"));
  }
}

}  // namespace
