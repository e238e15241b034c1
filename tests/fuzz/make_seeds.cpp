// mone_fuzz_seeds OUT_DIR: writes the seed corpus of every fuzz target, OUT_DIR/<target>/, from
// the project's own valid files, written by mone's own writers (so the seeds follow the formats
// as they change): the tiny checkpoint of fuzz_util.h, token shards of both llm.c formats, a BPE
// tokenizer trained on README.md (as tokenizer.json and as GPT-2 files), every spec in configs/,
// the config.json of each model spec, and the tiny transformers models of tests/data/hf.
#include <iostream>
#include <iterator>

#include "models/spec.h"
#include "tests/fuzz/fuzz_util.h"
#include "train/checkpoint/checkpoint_dir.h"
#include "train/checkpoint/json_file.h"
#include "train/checkpointing.h"
#include "train/data/shard.h"
#include "train/evaluate.h"
#include "train/metrics.h"
#include "train/model_config.h"
#include "train/tokenizer/bpe_trainer.h"
#include "train/tokenizer/tokenizer_files.h"
#include "train/train_spec.h"

using namespace mone;

namespace {

std::string out_dir;

void seed(const std::string& target, const std::string& name, std::string_view bytes) {
  const std::string dir = join_path(out_dir, target);
  MONE_CHECK_OK(make_directories(dir));
  fuzz::write_bytes(join_path(dir, name), bytes);
}

std::string source_file(const std::string& relative) {
  return fuzz::read_bytes(join_path(MONE_SOURCE_DIR, relative));
}

std::vector<std::string> source_dir(const std::string& relative) {
  return value_or_die(list_directory(join_path(MONE_SOURCE_DIR, relative)), relative.c_str());
}

void checkpoint_seeds() {
  const std::string run = join_path(fuzz::scratch_dir(), "run");
  const std::string dir = value_or_die(fuzz::write_tiny_checkpoint(run), "tiny checkpoint");
  const std::string model = fuzz::read_bytes(join_path(dir, train::kModelFileName));
  const std::string optimizer = fuzz::read_bytes(join_path(dir, train::kOptimizerFileName));
  const std::string manifest = fuzz::read_bytes(join_path(dir, train::kManifestFileName));
  seed("safetensors", "model.safetensors", model);
  seed("safetensors", "optimizer.safetensors", optimizer);
  seed("checkpoint", "model", std::string(1, '\0') + model);
  seed("checkpoint", "optimizer", std::string(1, '\1') + optimizer);
  seed("manifest", "manifest_only", manifest);
  seed("manifest", "manifest_and_latest", manifest + '\0' + fuzz::read_bytes(join_path(run, train::kLatestFileName)));
  seed("trainer_state", "trainer_state.json", fuzz::read_bytes(join_path(dir, train::kTrainerStateFileName)));
  seed("config_json", "tiny.json", fuzz::read_bytes(join_path(dir, train::kModelConfigFileName)));

  // metrics.jsonl with the keys the trainer writes: evaluations at steps 0 and 2, training records
  // at steps 1 and 2 (the second skipped), and the torn line a killed run leaves.
  const std::string metrics_path = join_path(fuzz::scratch_dir(), "metrics.jsonl");
  {
    train::MetricsLog log = value_or_die(train::MetricsLog::open(metrics_path), "metrics.jsonl");
    const auto eval = [&](int64_t step, double ce) {
      train::EvalResult e{.batches = 2, .tokens = 16};
      e.mean.ce = e.mean.loss = ce;
      nlohmann::ordered_json record = {{"step", step}};
      record.update(train::eval_result_json(e));
      MONE_CHECK_OK(log.write(record));
    };
    const auto train_record = [&](int64_t step, double loss, bool skipped) {
      MONE_CHECK_OK(log.write({{"step", step}, {"lr", 1e-3}, {"loss", loss}, {"ce", loss - 0.01},
                               {"load_balance", 1.0}, {"z_loss", 0.0}, {"neuron_loss", 1.0}, {"grad_norm", 0.5},
                               {"skipped", skipped}, {"tokens", 8 * step}, {"tokens_per_s", 1234.5},
                               {"mfu", 0.01}, {"elapsed_s", 0.25 * static_cast<double>(step)},
                               {"expert_load", {0.5, 0.5}}, {"neuron_load", {{0.25, 0.75}, {0.5, 0.5}}}}));
    };
    eval(0, 2.77);
    train_record(1, 2.8, false);
    train_record(2, 2.7, true);
    eval(2, 2.69);
  }
  const std::string metrics = fuzz::read_bytes(metrics_path);
  seed("run_summary", "metrics", metrics);
  seed("run_summary", "metrics_torn", metrics + "{\"step\": 3, \"lo");
  seed("run_summary", "metrics_and_state", metrics + '\0' + fuzz::read_bytes(join_path(dir, train::kTrainerStateFileName)));
}

// The tiny transformers models of tests/data/hf: every config.json, and each fuzzed weight file
// behind the byte that chooses it.
void hf_seeds() {
  for (const std::string& model : source_dir("tests/data/hf")) {
    const std::string config = "tests/data/hf/" + model + "/config.json";
    if (std::filesystem::is_regular_file(join_path(MONE_SOURCE_DIR, config))) {
      seed("config_json", "hf_" + model + ".json", source_file(config));
    }
  }
  for (size_t i = 0; i < std::size(fuzz::kHfFuzzedFiles); ++i) {
    const fuzz::HfFile& file = fuzz::kHfFuzzedFiles[i];
    const std::string bytes = source_file(absl::StrCat("tests/data/hf/", file.model, "/", file.name));
    seed("hf_model", absl::StrCat(file.model, "_", file.name), std::string(1, static_cast<char>(i)) + bytes);
  }
}

void shard_seeds() {
  std::vector<uint32_t> tokens(24);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<uint32_t>(i * 7 % 16);
  for (int64_t vocab : {16, 70000}) {  // uint16 (gpt-2) and uint32 (llama-3) ids
    const std::string path = join_path(fuzz::scratch_dir(), "shard.bin");
    MONE_CHECK_OK(train::write_shard(path, tokens, vocab));
    seed("shard", train::shard_format_for_vocab(vocab).name, fuzz::read_bytes(path));
  }
}

void tokenizer_seeds() {
  for (const std::string& name : source_dir("tests/tokenizer/data")) {
    seed("tokenizer_json", name, source_file("tests/tokenizer/data/" + name));
  }
  const train::Tokenizer tokenizer = value_or_die(train::train_bpe({source_file("README.md")}, 320), "BPE");
  const std::string path = join_path(fuzz::scratch_dir(), "tokenizer.json");
  MONE_CHECK_OK(tokenizer.save(path));
  const std::string json_text = fuzz::read_bytes(path);
  seed("tokenizer_json", "readme_320.json", json_text);

  // GPT-2's files hold the same vocab and merges: vocab.json is model.vocab, merges.txt one merge a line.
  const nlohmann::json root = value_or_die(train::parse_json_text(json_text, path), "tokenizer.json");
  std::string merges = "#version: 0.2\n";
  for (const nlohmann::json& m : root["model"]["merges"]) merges += m.get<std::string>() + "\n";
  seed("gpt2_files", "readme_320", root["model"]["vocab"].dump() + '\0' + merges);
}

void spec_seeds() {
  seed("model_spec", "fuzz_tiny.textproto", fuzz::kTinyModelSpec);
  for (const std::string& name : source_dir("configs/models")) {
    const std::string text = source_file("configs/models/" + name);
    seed("model_spec", name, text);
    const proto::ModelSpec spec = value_or_die(models::parse_model_spec(text, name), name.c_str());
    const nlohmann::json config = train::model_config_json(spec);
    seed("config_json", name + ".json", value_or_die(train::dump_json(config, 2, name), "config.json") + "\n");
  }
  seed("train_spec", "fuzz_tiny.textproto", train::train_spec_text(value_or_die(fuzz::tiny_train_spec(), "tiny")));
  for (const std::string& name : source_dir("configs/train")) {
    seed("train_spec", name, source_file("configs/train/" + name));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: mone_fuzz_seeds OUT_DIR  (writes OUT_DIR/<target>/ for every fuzz target)\n";
    return 2;
  }
  out_dir = argv[1];
  checkpoint_seeds();
  shard_seeds();
  tokenizer_seeds();
  spec_seeds();
  hf_seeds();
  std::cout << "seed corpora written to " << out_dir << "\n";
  return 0;
}
