// How `mone` reads a command line and how it ends: usage errors, suggestions, flag ranges, exit codes.
//
// Exit codes (also in `mone --help` and docs/TRAINING.md):
//   0  the command did what it was asked (--help too)
//   1  the command ran and failed: a bad file, spec, checkpoint or value (the message says which)
//   2  a usage error: an unknown command or flag, a missing required flag, a flag value that is
//      not a number or out of its range; nothing was read or written
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace mone::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// "mone", "mone train", "mone bench train": how messages name a command.
std::string command_name(const CLI::App& cmd);

// Help lines read "--max-tokens INT (>= 1, default 128)". Call before adding subcommands (they
// copy their parent's formatter).
void use_help_format(CLI::App& app);

// Parses argv with `app` (whose subcommand callbacks do the work), prints any usage error as
// "mone <command>: <what>" with the closest known command or flag, and returns the exit code.
int run_command_line(CLI::App& app, int argc, char** argv);

// The candidate closest to `word` by edit distance (adjacent swaps count once), when it is close
// enough to be a likely typo (at most 2 edits, and fewer than half of the word); "" otherwise.
std::string closest_name(const std::string& word, const std::vector<std::string>& candidates);

// Range checks for numeric flags (->check(...)). A value outside gives exit code 2 and
// "mone <command>: --flag: -1 is out of range: must be >= 0"; the help shows the range.
CLI::Validator at_least(double min);                      // value >= min
CLI::Validator above(double min);                         // value > min
CLI::Validator in_range(double lo, double hi, bool hi_open = false);  // [lo, hi] or [lo, hi)
CLI::Validator open_closed(double lo, double hi);         // (lo, hi]

}  // namespace mone::cli
