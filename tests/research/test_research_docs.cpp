// docs/RESEARCH.md's commands and the --help examples of the research commands run as written:
// the `mone ...` lines of RESEARCH.md's ```bash blocks in order (they make their own data and runs
// from Debian's fortunes), then every "  mone ..." example line of `mone eval|gradstudy|analyze|
// sparsify|report --help`, in one fresh folder with `mone` on the PATH and the repository's configs/.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/research/research_test_util.h"

using namespace mone::research_testing;
namespace fs = std::filesystem;

namespace {

// The `mone ...` lines of the ```bash blocks (a trailing backslash joins the next line).
std::vector<std::string> bash_examples(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line, command;
  bool bash = false;
  while (std::getline(in, line)) {
    if (line.rfind("```", 0) == 0) {
      bash = !bash && line == "```bash";
      continue;
    }
    if (!bash) continue;
    command += line;
    if (!command.empty() && command.back() == '\\') continue;
    if (command.rfind("mone ", 0) == 0) out.push_back(command);
    command.clear();
  }
  return out;
}

std::vector<std::string> help_examples(const std::string& command) {
  const CommandResult help = run_mone(command + " --help");
  REQUIRE(help.exit_code == 0);
  std::vector<std::string> out;
  std::istringstream in(help.output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("  mone ", 0) == 0) out.push_back(line.substr(2));
  }
  return out;
}

}  // namespace

TEST_SUITE("e2e") {

TEST_CASE("docs/RESEARCH.md's commands, then the research commands' --help examples, run as written") {
  mone_testing::TempDir box;
  fs::create_directories(box.file("bin"));
  fs::create_symlink(mone_testing::mone_binary(), box.file("bin/mone"));
  fs::create_directory_symlink(std::string(MONE_SOURCE_DIR) + "/configs", box.file("configs"));
  std::vector<std::string> commands = bash_examples(read_text(std::string(MONE_SOURCE_DIR) + "/docs/RESEARCH.md"));
  CHECK(commands.size() >= 12);
  for (const char* c : {"eval", "gradstudy", "analyze", "sparsify", "report"}) {
    const std::vector<std::string> examples = help_examples(c);
    CHECK_MESSAGE(!examples.empty(), "mone ", c, " --help has no example");
    commands.insert(commands.end(), examples.begin(), examples.end());
  }
  for (const std::string& c : commands) {
    write_text(box.file("example.sh"), "set -e\n" + c + "\n");
    const CommandResult r = mone_testing::run_command("cd '" + box.path() + "' && PATH='" + box.file("bin") +
                                                      "':\"$PATH\" bash example.sh");
    INFO(c);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  }
  // The chain made what the text says it makes.
  for (const char* f : {"runs/tiny_mone/analysis/analysis.json", "runs/tiny_mone/gradstudy/gradstudy.json",
                        "runs/tiny_moe/sparsify/sparsify_loss.svg", "runs/report.html", "runs/grads_f64.safetensors"}) {
    CHECK_MESSAGE(fs::exists(box.file(f)), f);
  }
}

}  // TEST_SUITE("e2e")
