// Every command example a user reads runs as written: the `mone ...` (and `mpirun ... mone ...`)
// lines of the ```bash blocks in README.md and docs/, and the "Example(s):" lines of every
// `mone <command> --help`.
//
// Each chain of examples runs in order in a fresh folder that holds what the text assumes: `mone`
// on the PATH, configs/ (the repository's), and my_texts/ and corpus/ (the user's text; here
// /usr/share/common-licenses). Lines run with bash, so quoting, $'...' and # comments work as they
// do for a reader. Usage synopses with placeholders (SPEC, RUN_DIR) belong in ```text blocks.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "tests/run_mone.h"
#include "tests/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using mone_testing::CommandResult;

std::string read_source(const std::string& relative) {
  std::ifstream in(std::string(MONE_SOURCE_DIR) + "/" + relative);
  REQUIRE_MESSAGE(in.good(), relative);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The `mone ...` commands of the ```bash blocks, continuation lines joined.
std::vector<std::string> markdown_examples(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line, command;
  bool bash = false, fenced = false;
  while (std::getline(in, line)) {
    if (line.rfind("```", 0) == 0) {
      bash = !fenced && (line == "```bash" || line == "```sh");
      fenced = !fenced;
      continue;
    }
    if (!bash) continue;
    command += line;
    if (!command.empty() && command.back() == '\\') {
      command += "\n";
      continue;
    }
    if (command.rfind("mone ", 0) == 0 || command.rfind("mpirun ", 0) == 0) out.push_back(command);
    command.clear();
  }
  return out;
}

// The example lines ("  mone ...") of a command's --help.
std::vector<std::string> help_examples(const std::string& command) {
  const CommandResult help = mone_testing::run_mone(command + " --help");
  REQUIRE(help.exit_code == 0);
  std::vector<std::string> out;
  std::istringstream in(help.output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("  mone ", 0) == 0 || line.rfind("  mpirun ", 0) == 0) out.push_back(line.substr(2));
  }
  return out;
}

class Sandbox {
 public:
  Sandbox() {
    fs::create_directories(dir_.file("bin"));
    fs::create_symlink(mone_testing::mone_binary(), dir_.file("bin/mone"));
    fs::create_directory_symlink(std::string(MONE_SOURCE_DIR) + "/configs", dir_.file("configs"));
    for (const char* texts : {"my_texts", "corpus"}) {
      fs::copy("/usr/share/common-licenses", dir_.file(texts), fs::copy_options::recursive);
    }
  }
  void run(const std::string& where, const std::string& command) {
    // mpirun lines run as a user would; as root (CI) OpenMPI wants these two variables too.
    std::ofstream(dir_.file("example.sh")) << "set -e\nexport OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1\n"
                                           << command << "\n";
    const CommandResult r = mone_testing::run_shell("cd '" + dir_.path() + "' && PATH='" + dir_.file("bin") +
                                                    "':\"$PATH\" bash example.sh");
    INFO(where, ": ", command);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  }

 private:
  mone_testing::TempDir dir_;
};

void run_all(Sandbox& box, const std::string& where, const std::vector<std::string>& commands, size_t at_least) {
  CHECK_MESSAGE(commands.size() >= at_least, where, " has ", commands.size(), " examples");
  for (const std::string& c : commands) box.run(where, c);
}

}  // namespace

TEST_SUITE("e2e") {

TEST_CASE("README.md's commands run as written") {
  Sandbox box;
  run_all(box, "README.md", markdown_examples(read_source("README.md")), 9);
}

TEST_CASE("docs/: TRAINING.md's, then GENERATE.md's and SPECS.md's commands run as written") {
  Sandbox box;
  run_all(box, "docs/TRAINING.md", markdown_examples(read_source("docs/TRAINING.md")), 5);
  run_all(box, "docs/GENERATE.md", markdown_examples(read_source("docs/GENERATE.md")), 3);
  run_all(box, "docs/SPECS.md", markdown_examples(read_source("docs/SPECS.md")), 1);
}

TEST_CASE("every --help example runs as written, in workflow order") {
  Sandbox box;
  size_t total = 0;
  for (const char* command : {"tokenizer train", "data prepare", "train", "eval", "generate", "runs", "export", "import", "bench train",
                              "inspect"}) {
    const std::vector<std::string> examples = help_examples(command);
    CHECK_MESSAGE(!examples.empty(), "mone ", command, " --help has no example");
    run_all(box, std::string("mone ") + command + " --help", examples, 1);
    total += examples.size();
  }
  CHECK(total >= 10);
}

}  // TEST_SUITE
