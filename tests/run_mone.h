// Runs the built `mone` binary (or any command line) as a user would: run_mone and run_shell capture
// stdout+stderr and the exit code; start_mone/wait_mone run it as a child the test can kill or
// limit (file size, user). Shared by the CLI, trainer and distributed tests.
#pragma once

#include <doctest/doctest.h>
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "tests/text_checks.h"

namespace mone_testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Whether a command printed `text`.
inline bool has(const CommandResult& r, std::string_view text) { return contains(r.output, text); }

inline std::string mone_binary() { return std::string(MONE_BINARY_DIR) + "/bin/mone"; }

// A waitpid status as a shell reports it: the exit code, or 128 + the signal that ended it.
inline int exit_code_of(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

// Runs `shell_command` with sh, capturing stdout+stderr and the exit code.
inline CommandResult run_shell(const std::string& shell_command) {
  CommandResult r;
  std::FILE* pipe = ::popen(("(" + shell_command + ") 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.output.append(buffer, n);
  r.exit_code = exit_code_of(::pclose(pipe));
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

// How start_mone sets up the child before it runs mone.
struct ChildLimits {
  rlim_t max_file_bytes = RLIM_INFINITY;  // RLIMIT_FSIZE: a write past it fails with EFBIG (a full disk)
  bool unprivileged = false;              // when run as root, become nobody (65534) so permissions apply
};
// Exit code of a child that could not apply ChildLimits (e.g. no right to change user).
inline constexpr int kChildSetupFailed = 125;

// Starts `mone <args>` (a shell word list) as a child process with stdout and stderr going to
// log_path, and returns its pid: the pid of mone itself, so a test can kill it.
inline pid_t start_mone(const std::string& args, const std::string& log_path, const ChildLimits& limits = {}) {
  REQUIRE_MESSAGE(std::filesystem::exists(mone_binary()), "build the mone target first: " << mone_binary());
  const std::string binary = mone_binary();
  const std::string command = "exec " + binary + " " + args + " > '" + log_path + "' 2>&1";
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit then fails instead of killing mone
    const struct rlimit fsize = {limits.max_file_bytes, limits.max_file_bytes};
    if (::setrlimit(RLIMIT_FSIZE, &fsize) != 0) ::_exit(kChildSetupFailed);
    if (limits.unprivileged && ::geteuid() == 0 &&
        (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0 ||
         ::access(binary.c_str(), X_OK) != 0)) {
      ::_exit(kChildSetupFailed);  // e.g. no right to change user, or nobody cannot reach the binary
    }
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// Waits for a child of start_mone; its exit code, or 128 + the signal that ended it.
inline int wait_mone(pid_t pid) {
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return exit_code_of(status);
}

}  // namespace mone_testing
