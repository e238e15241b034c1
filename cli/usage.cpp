#include "cli/usage.h"

#include <algorithm>
#include <cmath>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace mone::cli {
namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// adjacent letters ("trian" -> "train") cost 1 each.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::vector<std::string> command_names(CLI::App& cmd) {
  std::vector<std::string> names;
  for (const CLI::App* sub : cmd.get_subcommands([](CLI::App*) { return true; })) names.push_back(sub->get_name());
  return names;
}

// The deepest command the parser entered ("mone data prepare"): the one a usage error is about.
CLI::App& innermost(CLI::App& app) {
  CLI::App* cmd = &app;
  while (!cmd->get_subcommands().empty()) cmd = cmd->get_subcommands().front();
  return *cmd;
}

// "; did you mean 'train'?" (a command) or "; did you mean --steps?" (a flag), or "".
std::string suggestion(const std::string& word, const std::vector<std::string>& candidates, bool flag) {
  const std::string best = closest_name(word, candidates);
  if (best.empty()) return "";
  return flag ? absl::StrCat("; did you mean --", best, "?") : absl::StrCat("; did you mean '", best, "'?");
}

int usage_error(const CLI::App& cmd, const std::string& message) {
  std::cerr << command_name(cmd) << ": " << message << "\n"
            << "Run `" << command_name(cmd) << " --help` for its " << (cmd.get_require_subcommand_min() > 0 ? "commands" : "flags")
            << ".\n";
  return kExitUsage;
}

// Before parsing: a word where a command is expected must name one ("mone trian" -> "train").
// CLI11 would only say that a subcommand is required.
bool unknown_command(CLI::App& app, int argc, char** argv, int* exit_code) {
  CLI::App* cmd = &app;
  for (int i = 1; i < argc && cmd->get_require_subcommand_min() > 0; ++i) {
    const std::string word = argv[i];
    if (word.empty() || word[0] == '-') return false;
    const std::vector<std::string> names = command_names(*cmd);
    if (std::find(names.begin(), names.end(), word) == names.end()) {
      *exit_code = usage_error(*cmd, absl::StrCat("unknown command '", word, "'", suggestion(word, names, /*flag=*/false)));
      return true;
    }
    cmd = cmd->get_subcommand(word);
  }
  return false;
}

// Flags and words that `cmd` did not take, in the order given: CLI11 keeps them reversed.
std::string describe_extras(const CLI::App& cmd) {
  std::vector<std::string> extras = cmd.remaining();
  std::reverse(extras.begin(), extras.end());
  std::vector<std::string> flags;
  for (const CLI::Option* o : cmd.get_options()) {
    for (const std::string& n : o->get_lnames()) flags.push_back(n);
  }
  for (const std::string& e : extras) {
    if (e.size() > 2 && e.rfind("--", 0) == 0) {
      const std::string name = e.substr(2, e.find('=') == std::string::npos ? std::string::npos : e.find('=') - 2);
      return absl::StrCat("unknown flag --", name, suggestion(name, flags, /*flag=*/true));
    }
    if (e.size() > 1 && e[0] == '-') return absl::StrCat("unknown flag ", e);
  }
  return absl::StrCat("unexpected argument", extras.size() > 1 ? "s " : " ", absl::StrJoin(extras, " "));
}

std::string describe(const CLI::ParseError& e, CLI::App& cmd) {
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) return describe_extras(cmd);
  const std::string what = e.what();
  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && what.find("subcommand") != std::string::npos) {
    return absl::StrCat("a command is required: ", absl::StrJoin(command_names(cmd), ", "));
  }
  return what;
}

std::string number(double x) { return absl::StrCat(x); }

// Flags read "--max-tokens INT (>= 1, default 128)": CLI11 would print "INT:>= 1=128".
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_option_opts(const CLI::Option* opt) const override {
    if (opt->get_type_size() == 0) return "";
    const std::string type = opt->get_type_name();
    const size_t colon = type.find(':');
    std::vector<std::string> notes;
    if (colon != std::string::npos) notes.push_back(type.substr(colon + 1));
    if (!opt->get_default_str().empty()) notes.push_back(absl::StrCat("default ", opt->get_default_str()));
    std::string out = absl::StrCat(" ", type.substr(0, colon));
    if (opt->get_expected_max() == CLI::detail::expected_max_vector_size) absl::StrAppend(&out, " ...");
    if (!notes.empty()) absl::StrAppend(&out, " (", absl::StrJoin(notes, ", "), ")");
    if (opt->get_required()) absl::StrAppend(&out, " REQUIRED");
    return out;
  }
};

CLI::Validator range_validator(std::function<bool(double)> ok, const std::string& rule) {
  return CLI::Validator(
      [ok, rule](std::string& value) -> std::string {
        double x = 0;
        size_t used = 0;
        try {
          x = std::stod(value, &used);
        } catch (...) {
          used = 0;
        }
        if (used != value.size() || used == 0) return absl::StrCat(value, " is not a number");
        if (!ok(x)) return absl::StrCat(value, " is out of range: must be ", rule);
        return "";
      },
      rule);
}

}  // namespace

std::string command_name(const CLI::App& cmd) {
  std::string name;
  for (const CLI::App* p = &cmd; p != nullptr; p = p->get_parent()) {
    name = name.empty() ? p->get_name() : p->get_name() + " " + name;
  }
  return name;
}

std::string closest_name(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 3;  // at most 2 edits
  for (const std::string& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_distance && 2 * d < std::max(word.size(), c.size())) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

CLI::Validator at_least(double min) {
  return range_validator([min](double x) { return x >= min; }, absl::StrCat(">= ", number(min)));
}

CLI::Validator above(double min) {
  return range_validator([min](double x) { return x > min; }, absl::StrCat("> ", number(min)));
}

CLI::Validator in_range(double lo, double hi, bool hi_open) {
  return range_validator([=](double x) { return x >= lo && (hi_open ? x < hi : x <= hi); },
                         absl::StrCat("in [", number(lo), ", ", number(hi), hi_open ? ")" : "]"));
}

CLI::Validator open_closed(double lo, double hi) {
  return range_validator([=](double x) { return x > lo && x <= hi; },
                         absl::StrCat("in (", number(lo), ", ", number(hi), "]"));
}

void use_help_format(CLI::App& app) {
  auto f = std::make_shared<HelpFormatter>();
  f->column_width(32);
  app.formatter(f);
}

int run_command_line(CLI::App& app, int argc, char** argv) {
  int code = kExitOk;
  if (unknown_command(app, argc, argv, &code)) return code;
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a command failed; set_command_action printed why
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == kExitOk) return app.exit(e);  // --help
    CLI::App& cmd = innermost(app);
    return usage_error(cmd, describe(e, cmd));
  }
  return kExitOk;
}

}  // namespace mone::cli
