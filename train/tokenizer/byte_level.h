// GPT-2's byte <-> unicode map: how byte-level BPE writes arbitrary bytes as printable text.
//
// Files (vocab.json, merges.txt, tokenizer.json) spell every token as a UTF-8 string in which
// each byte b is one code point u(b): the 188 printable bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') map
// to themselves, the other 68 (controls, space, 0x7F-0xA0, 0xAD) to U+0100, U+0101, ... in byte
// order. So a space is 'Ġ' (U+0120) and a newline 'Ċ' (U+010A). The map is a bijection, so
// every byte string has exactly one spelling and back. Inside mone tokens are raw bytes; this
// spelling is used only at the file boundary (and for printing tokens).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mone::train {

// The code point GPT-2 uses for byte b.
char32_t byte_to_code_point(unsigned char b);

// Raw bytes -> GPT-2 byte-level spelling (valid UTF-8, 1 or 2 UTF-8 bytes per input byte).
std::string bytes_to_byte_level(std::string_view bytes);

// GPT-2 byte-level spelling -> raw bytes; nullopt when `text` is not valid UTF-8 or holds a
// code point outside the map (i.e. it is not a byte-level token).
std::optional<std::string> byte_level_to_bytes(std::string_view text);

}  // namespace mone::train
