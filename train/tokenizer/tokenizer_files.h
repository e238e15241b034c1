// Tokenizer files: Hugging Face tokenizer.json, and GPT-2's vocab.json + merges.txt.
//
// Tokens are written in GPT-2's byte-level spelling (byte_level.h); special tokens are listed in
// "added_tokens" and also in the vocab at their ids, as in GPT-2's own tokenizer.json. Loading a
// file mone saved and saving it again gives the same bytes (Tokenizer::save is declared in
// tokenizer.h and defined here).
//
// Every error names the file and what is wrong with it; nothing in a file can crash the loader.
#pragma once

#include <string>

#include "core/status.h"
#include "train/tokenizer/tokenizer.h"

namespace mone::train {

// A Hugging Face tokenizer.json with a byte-level BPE model: model.type "BPE", model.vocab
// (spelling -> id, ids 0..n-1 with added_tokens), model.merges as "left right" strings or
// ["left", "right"] pairs, and a ByteLevel pre-tokenizer (or a Sequence of a Split regex and a
// ByteLevel without regex, whose regex is then used). All added tokens become special tokens.
// Rejected with an error: a normalizer, ByteLevel add_prefix_space, byte_fallback, subword
// prefixes/suffixes, or any other model or pre-tokenizer type.
StatusOr<Tokenizer> load_tokenizer_json(const std::string& path);

// GPT-2's vocab.json (spelling -> id) and merges.txt (an optional "#version" first line, then one
// "left right" pair per line, in rank order). <|endoftext|>, when present, becomes special.
StatusOr<Tokenizer> load_gpt2_files(const std::string& vocab_json, const std::string& merges_txt);

// What a user names as "the tokenizer": a tokenizer.json file, or a directory holding
// tokenizer.json or else vocab.json + merges.txt. Error: none of these is there.
StatusOr<Tokenizer> load_tokenizer(const std::string& path);

}  // namespace mone::train
