// mone report: one well-formed HTML page with the curves of every run and the plots that analyze,
// sparsify and gradstudy wrote into the run directories; bad run directories are errors.
#include <doctest/doctest.h>

#include "tests/research/research_test_util.h"

using namespace mone;
using namespace mone::research_testing;

TEST_SUITE("e2e") {

TEST_CASE("mone report: two runs side by side, with their analysis plots") {
  const std::string moe = tiny_run("MOE"), mone_run = tiny_run("MONE");
  const std::string flags = " --data " + moe + "/data --batches 2 --threads 1";
  mone_testing::TempDir out;
  // The plots go inside copies of the run directories (the shared fixtures stay untouched).
  const std::string a = out.file("moe"), b = out.file("mone");
  std::filesystem::copy(moe + "/run", a, std::filesystem::copy_options::recursive);
  std::filesystem::copy(mone_run + "/run", b, std::filesystem::copy_options::recursive);
  REQUIRE(run_mone("sparsify --checkpoint " + a + flags + " --keep 1,0.5 --out " + a + "/sparsify").exit_code == 0);
  REQUIRE(run_mone("analyze --checkpoint " + b + flags + " --out " + b + "/analysis").exit_code == 0);
  const CommandResult r = run_mone("report " + a + " " + b + " --title \"tiny <runs>\" --out " + out.file("r.html"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  const auto page = mone_testing::read_xml(read_text(out.file("r.html")));
  REQUIRE_MESSAGE(page.ok, page.error);
  // The train CE chart holds both runs' 12 logged steps.
  int ce_series = 0;
  for (const auto* s : page.root.with_class("series")) {
    const auto x = mone_testing::numbers_of(s->attr("data-x"));
    if ((s->attr("data-name") == "moe" || s->attr("data-name") == "mone") && x.size() == 12) ++ce_series;
  }
  CHECK(ce_series >= 2);
  CHECK(page.root.with_class("heatmap").size() == 1 + 2);  // mone's tokens per expert and 2 neuron loads
  CHECK(page.root.with_class("histogram").size() == 2 * 2);  // mone's |G| and margins, 2 layers
  CHECK(read_text(out.file("r.html")).find("<title>tiny &lt;runs&gt;</title>") != std::string::npos);

  const CommandResult bad = run_mone("report " + a + " " + out.file("nothing") + " --out " + out.file("x.html"));
  CHECK(bad.exit_code == 1);
  CHECK(bad.output.find("run directory " + out.file("nothing")) != std::string::npos);
}

}  // TEST_SUITE("e2e")
