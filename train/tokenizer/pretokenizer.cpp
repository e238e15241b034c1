#include "train/tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#ifndef PCRE2_MATCH_INVALID_UTF
#error "mone's tokenizer needs PCRE2 10.34 or newer (PCRE2_MATCH_INVALID_UTF)"
#endif

namespace mone::train {

struct PreTokenizer::Compiled {
  pcre2_code* code = nullptr;
  bool jit = false;  // compiled to machine code: pcre2_jit_match skips the interpreter's checks
  ~Compiled() { pcre2_code_free(code); }
};

namespace {

std::string pcre2_message(int error_code) {
  PCRE2_UCHAR buffer[256];
  int n = pcre2_get_error_message(error_code, buffer, sizeof(buffer));
  return n < 0 ? absl::StrCat("PCRE2 error ", error_code) : std::string(reinterpret_cast<char*>(buffer), n);
}

// Owns one match block; each split() makes its own, so concurrent splits never share state.
struct MatchData {
  pcre2_match_data* data;
  explicit MatchData(const pcre2_code* code) : data(pcre2_match_data_create_from_pattern(code, nullptr)) {
    MONE_CHECK(data != nullptr) << "out of memory for a PCRE2 match block";
  }
  ~MatchData() { pcre2_match_data_free(data); }
};

}  // namespace

StatusOr<PreTokenizer> PreTokenizer::create(std::string_view pattern) {
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  auto compiled = std::make_shared<Compiled>();
  // UCP: \s and friends follow Unicode (as in Python's regex module that GPT-2 used).
  compiled->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                 PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error_code,
                                 &error_offset, nullptr);
  if (compiled->code == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("split regex does not compile at offset ", error_offset,
                                                   ": ", pcre2_message(error_code), " (regex: ", std::string(pattern), ")"));
  }
  // JIT is only a speed-up: if it is unavailable the interpreter runs the same pattern.
  compiled->jit = pcre2_jit_compile(compiled->code, PCRE2_JIT_COMPLETE) == 0;
  return PreTokenizer(std::string(pattern), std::move(compiled));
}

void PreTokenizer::split(std::string_view text, absl::FunctionRef<void(std::string_view)> piece) const {
  const pcre2_code* code = compiled_->code;
  MatchData match(code);
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  // NOTEMPTY: a custom pattern that can match the empty string must still move forward.
  const uint32_t options = PCRE2_NOTEMPTY;
  size_t offset = 0;
  while (offset < text.size()) {
    int rc = compiled_->jit ? pcre2_jit_match(code, subject, text.size(), offset, options, match.data, nullptr)
                            : pcre2_match(code, subject, text.size(), offset, options, match.data, nullptr);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
      // A resource limit (e.g. the JIT stack on a pathological input): retry with the
      // interpreter, which backtracks on the heap.
      rc = pcre2_match(code, subject, text.size(), offset, options | PCRE2_NO_JIT, match.data, nullptr);
    }
    if (rc < 0) {
      // No match (only invalid UTF-8 is left) or still an error: the rest is one piece.
      piece(text.substr(offset));
      return;
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.data);
    size_t start = ovector[0], end = ovector[1];
    MONE_CHECK_GT(end, start) << "PCRE2_NOTEMPTY rules out empty matches";
    if (start > offset) piece(text.substr(offset, start - offset));  // invalid UTF-8 between matches
    piece(text.substr(start, end - start));
    offset = end;
  }
}

std::vector<std::string_view> PreTokenizer::split(std::string_view text) const {
  std::vector<std::string_view> pieces;
  split(text, [&](std::string_view p) { pieces.push_back(p); });
  return pieces;
}

}  // namespace mone::train
