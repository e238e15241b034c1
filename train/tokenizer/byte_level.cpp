#include "train/tokenizer/byte_level.h"

#include <array>

namespace mone::train {
namespace {

// GPT-2's bytes_to_unicode(): printable bytes keep their code point, the rest are numbered
// 256, 257, ... in increasing byte order.
struct ByteMap {
  std::array<char32_t, 256> to_code_point{};
  std::array<int, 324> to_byte{};  // code points 0..323 cover the whole image; -1 = none

  ByteMap() {
    to_byte.fill(-1);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(next++);
      to_code_point[b] = cp;
      to_byte[cp] = b;
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap map;
  return map;
}

}  // namespace

char32_t byte_to_code_point(unsigned char b) { return byte_map().to_code_point[b]; }

std::string bytes_to_byte_level(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    char32_t cp = byte_to_code_point(b);  // < 0x800: one or two UTF-8 bytes
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

std::optional<std::string> byte_level_to_bytes(std::string_view text) {
  // Every code point of the map is below U+0800, so only 1- and 2-byte UTF-8 sequences occur.
  const ByteMap& map = byte_map();
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    char32_t cp;
    if (c < 0x80) {
      cp = c;
      i += 1;
    } else if ((c & 0xE0) == 0xC0 && i + 1 < text.size() &&
               (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80) {
      cp = (static_cast<char32_t>(c & 0x1F) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3F);
      i += 2;
      if (cp < 0x80) return std::nullopt;  // overlong spelling of an ASCII character
    } else {
      return std::nullopt;
    }
    if (cp >= map.to_byte.size() || map.to_byte[cp] < 0) return std::nullopt;
    out.push_back(static_cast<char>(map.to_byte[cp]));
  }
  return out;
}

}  // namespace mone::train
