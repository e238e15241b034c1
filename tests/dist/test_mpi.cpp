// Every MPI collective across 3 ranks (tests/dist/mpi_check/collectives_check.cpp checks the
// values on each rank), and a mone binary started by mpirun without MPI support refusing clearly.
#include <doctest/doctest.h>

#include "mpi_test_util.h"

namespace mone::dist {
namespace {

using namespace testing;

TEST_SUITE("e2e") {
  TEST_CASE("MPI: all-reduce, broadcast, barrier, all-to-all, bucketed average and owner broadcasts on 3 ranks") {
    if (!mpi_available()) return;
    const auto r = mone_testing::run_shell(mpirun(3) + MONE_BINARY_DIR "/bin/mone_collectives_check");
    INFO(r.output);
    CHECK(r.exit_code == 0);
    for (int rank = 0; rank < 3; ++rank) {
      CHECK(r.output.find("rank " + std::to_string(rank) + " of 3: ok") != std::string::npos);
    }
    CHECK(r.output.find("FAILED") == std::string::npos);
  }
}

}  // namespace
}  // namespace mone::dist
