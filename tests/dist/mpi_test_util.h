// Running mone and the collectives check under mpirun from the tests.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <string>

#include "dist/communicator.h"
#include "tests/run_mone.h"

namespace mone::dist::testing {

// True when the MPI tests can run: this build has MPI, so mpirun must be there too (setup.sh
// installs both); a build without MPI skips them with a message.
inline bool mpi_available() {
  if (!built_with_mpi()) {
    MESSAGE("built without MPI: skipped");
    return false;
  }
  REQUIRE_MESSAGE(mone_testing::run_shell("command -v mpirun").exit_code == 0,
                  "mone was built with MPI but mpirun is not on PATH (apt-get install openmpi-bin)");
  return true;
}

// "mpirun -np R --oversubscribe ": more ranks than cores is fine for tiny models. CI runs as
// root, which OpenMPI refuses unless told.
inline std::string mpirun(int ranks) {
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  return "mpirun -np " + std::to_string(ranks) + " --oversubscribe ";
}

// `mpirun -np R mone ARGS`.
inline mone_testing::CommandResult mpirun_mone(int ranks, const std::string& args) {
  return mone_testing::run_shell(mpirun(ranks) + mone_testing::mone_binary() + " " + args);
}

}  // namespace mone::dist::testing
