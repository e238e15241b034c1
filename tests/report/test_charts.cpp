// report/: the SVG charts parse as XML and hold the numbers they plot (data-* attributes); the
// run report is one well-formed page with each run's curves and plots; and the XML checker the
// tests rely on rejects what is not well-formed.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "report/charts.h"
#include "report/run_report.h"
#include "report/svg.h"
#include "tests/temp_dir.h"
#include "tests/xml_check.h"

using namespace mone;
using namespace mone::report;
using mone_testing::numbers_of;
using mone_testing::read_xml;
using mone_testing::XmlElement;

namespace {

XmlElement parse_ok(const std::string& text) {
  const auto r = read_xml(text);
  REQUIRE_MESSAGE(r.ok, r.error);
  return r.root;
}

void write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("the XML checker rejects what is not well-formed") {
  CHECK(read_xml("<a x=\"1\"><b/>text &amp; &#38; &#x26;</a>").ok);
  CHECK(read_xml("<?xml version=\"1.0\"?>\n<!DOCTYPE html>\n<!-- c --><a/>\n").ok);
  for (const char* bad : {"<a><b></a></b>", "<a x=1/>", "<a x=\"<\"/>", "<a>&</a>", "<a>&nbsp;</a>",
                          "<a x=\"1\" x=\"2\"/>", "<a/><b/>", "<a>", "text", "<a x=\"1\"y=\"2\"/>"}) {
    CAPTURE(bad);
    CHECK_FALSE(read_xml(bad).ok);
  }
  const auto r = read_xml("<a t=\"&lt;&amp;&gt;&quot;\">x &lt; y</a>");
  REQUIRE(r.ok);
  CHECK(r.root.attr("t") == "<&>\"");
  CHECK(r.root.text == "x < y");
}

TEST_CASE("a line chart holds every finite point of every series, in order") {
  LineChart c;
  c.title = "loss <train & val>";
  c.x_label = "step";
  c.y_label = "CE";
  c.series = {{"train", {1, 2, 3, 4}, {4.5, 3.25, NAN, 2.125}}, {"val", {2, 4}, {3.5, 2.75}}};
  const XmlElement svg = parse_ok(line_chart_svg(c));
  CHECK(svg.name == "svg");
  const auto series = svg.with_class("series");
  REQUIRE(series.size() == 2);
  CHECK(series[0]->attr("data-name") == "train");
  CHECK(numbers_of(series[0]->attr("data-x")) == std::vector<double>{1, 2, 4});  // NaN is not plotted
  CHECK(numbers_of(series[0]->attr("data-y")) == std::vector<double>{4.5, 3.25, 2.125});
  CHECK(numbers_of(series[1]->attr("data-y")) == std::vector<double>{3.5, 2.75});
  // One polyline per series, through as many points as there are values.
  REQUIRE(series[0]->children.size() == 1);
  CHECK(series[0]->children[0].name == "polyline");
  const std::string points = series[0]->children[0].attr("points");
  CHECK(std::count(points.begin(), points.end(), ',') == 3);
  // The title is text, escaped and read back.
  std::vector<const XmlElement*> texts;
  svg.find_all([](const XmlElement& e) { return e.name == "text"; }, texts);
  bool found = false;
  for (const XmlElement* t : texts) found = found || t->text == "loss <train & val>";
  CHECK(found);
  // A log axis drops the values it cannot show.
  c.log_y = true;
  c.series = {{"lr", {0, 1, 2}, {0.0, 1e-3, 1e-2}}};
  const XmlElement log_svg = parse_ok(line_chart_svg(c));
  CHECK(numbers_of(log_svg.with_class("series")[0]->attr("data-y")) == std::vector<double>{1e-3, 1e-2});
}

TEST_CASE("a histogram holds its edges and counts, with one bar per non-empty bin") {
  Histogram h;
  h.title = "|G|";
  h.edges = {0, 0.1, 0.2, 0.3, 0.4};
  h.counts = {5, 0, 12, 1};
  const XmlElement svg = parse_ok(histogram_svg(h));
  const auto g = svg.with_class("histogram");
  REQUIRE(g.size() == 1);
  CHECK(numbers_of(g[0]->attr("data-edges")) == h.edges);
  CHECK(numbers_of(g[0]->attr("data-counts")) == h.counts);
  CHECK(g[0]->children.size() == 3);
}

TEST_CASE("a heat map holds its values row by row, one cell each") {
  Heatmap h;
  h.title = "neuron load";
  h.rows = 2;
  h.cols = 3;
  h.values = {0.0, 0.25, 0.5, 1.0, 0.125, 0.75};
  h.row_labels = {"expert 0", "expert 1"};
  const XmlElement svg = parse_ok(heatmap_svg(h));
  const auto g = svg.with_class("heatmap");
  REQUIRE(g.size() == 1);
  CHECK(g[0]->attr("data-rows") == "2");
  CHECK(g[0]->attr("data-cols") == "3");
  CHECK(numbers_of(g[0]->attr("data-values")) == h.values);
  CHECK(g[0]->children.size() == 6);
  // The smallest value is viridis' dark end, the largest its yellow end.
  CHECK(g[0]->children[0].attr("fill") == "#440154");
  CHECK(g[0]->children[3].attr("fill") == "#fde725");
}

TEST_CASE("the run report: one well-formed page with every run's curves and plots") {
  mone_testing::TempDir dir;
  write(dir.file("a/run/metrics.jsonl"),
        "{\"step\":1,\"ce\":4.0,\"lr\":0.001}\n{\"step\":2,\"ce\":3.5,\"lr\":0.002}\n"
        "{\"step\":2,\"val_loss\":3.75}\nnot json\n{\"step\":3,\"ce\":3.0,\"lr\":0.002}\n");
  write(dir.file("b/run/metrics.jsonl"), "{\"step\":1,\"ce\":5.0}\n{\"step\":2,\"ce\":4.5}\n");
  Histogram h;
  h.title = "margins";
  h.edges = {0, 1};
  h.counts = {7};
  write(dir.file("a/run/analysis/margin.svg"), histogram_svg(h));
  ReportOptions o;
  o.run_dirs = {dir.file("a/run"), dir.file("b/run")};
  auto html = run_report_html(o);
  REQUIRE(html.ok());
  const XmlElement page = parse_ok(*html);
  CHECK(page.name == "html");
  // The CE chart has one series per run, named by path (both folders are called "run").
  std::vector<const XmlElement*> ce;
  for (const XmlElement* s : page.with_class("series")) {
    if (numbers_of(s->attr("data-y")).size() >= 2 && s->attr("data-name").find("run") != std::string::npos) {
      ce.push_back(s);
    }
  }
  REQUIRE(ce.size() >= 2);
  CHECK(ce[0]->attr("data-name") == dir.file("a/run"));
  CHECK(numbers_of(ce[0]->attr("data-y")) == std::vector<double>{4.0, 3.5, 3.0});
  CHECK(numbers_of(ce[1]->attr("data-y")) == std::vector<double>{5.0, 4.5});
  // Run a's analysis plot is inlined.
  const auto hist = page.with_class("histogram");
  REQUIRE(hist.size() == 1);
  CHECK(numbers_of(hist[0]->attr("data-counts")) == std::vector<double>{7});

  o.run_dirs.push_back(dir.file("missing"));
  auto bad = run_report_html(o);
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find(dir.file("missing")) != std::string::npos);
}

TEST_CASE("metrics.jsonl series: numeric keys over step, bad lines skipped") {
  mone_testing::TempDir dir;
  write(dir.file("m.jsonl"), "{\"step\":1,\"ce\":2.5,\"skipped\":false}\n{\"ce\":9}\n{\"step\":4,\"ce\":2.0}\n");
  auto m = read_metrics_series(dir.file("m.jsonl"));
  REQUIRE(m.ok());
  CHECK(m->at("ce").x == std::vector<double>{1, 4});
  CHECK(m->at("ce").y == std::vector<double>{2.5, 2.0});
  CHECK(m->count("skipped") == 0);
  CHECK(absl::IsNotFound(read_metrics_series(dir.file("none.jsonl")).status()));
}

}  // TEST_SUITE("unit")
