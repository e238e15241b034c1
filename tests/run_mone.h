// Runs the built `mone` binary (or any command line) as a user would, capturing stdout+stderr and
// the exit code. Shared by the CLI, trainer and distributed tests.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace mone_testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

inline std::string mone_binary() { return std::string(MONE_BINARY_DIR) + "/bin/mone"; }

// Runs `shell_command` with sh, capturing stdout+stderr and the exit code.
inline CommandResult run_shell(const std::string& shell_command) {
  CommandResult r;
  std::FILE* pipe = ::popen(("(" + shell_command + ") 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.output.append(buffer, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

inline CommandResult run_mone(const std::string& args) {
  REQUIRE_MESSAGE(std::filesystem::exists(mone_binary()), "build the mone target first: " << mone_binary());
  return run_shell(mone_binary() + " " + args);
}

// `mone args` run from working directory `dir`, as a user who is somewhere else than the build.
inline CommandResult run_mone_in(const std::string& dir, const std::string& args) {
  REQUIRE_MESSAGE(std::filesystem::exists(mone_binary()), "build the mone target first: " << mone_binary());
  return run_shell("cd '" + dir + "' && " + mone_binary() + " " + args);
}

}  // namespace mone_testing
