#include "tests/fuzz/fuzz_util.h"

#include <cmath>

#include "models/spec.h"
#include "models/spec_stats.h"
#include "models/transformer.h"
#include "train/checkpoint/json_file.h"
#include "train/model_config.h"
#include "train/schedule.h"
#include "train/trainer.h"
#include "train/checkpointing.h"
#include "train/optimizer.h"
#include "train/tokenizer/tokenizer_files.h"
#include "train/train_spec.h"

namespace mone::fuzz {

StatusOr<proto::TrainSpec> tiny_train_spec() {
  // An absolute train_data is taken as written (resolve_train_spec looks only for relative ones).
  const std::string text = absl::StrCat("model { ", kTinyModelSpec, " } train_data: \"", join_path(scratch_dir(), "data"),
                                        "\" batch_size: 2 seq_len: 4 steps: 2 seed: 7");
  MONE_ASSIGN_OR_RETURN(proto::TrainSpec spec, train::parse_train_spec(text, "the tiny train spec"));
  MONE_RETURN_IF_ERROR(train::resolve_train_spec(spec, "the tiny train spec"));
  return spec;
}

StatusOr<std::string> write_tiny_checkpoint(const std::string& run_dir) {
  MONE_ASSIGN_OR_RETURN(proto::TrainSpec spec, tiny_train_spec());
  MONE_ASSIGN_OR_RETURN(auto model, models::Transformer::create(spec.model(), spec.seed()));
  MONE_ASSIGN_OR_RETURN(train::AdamW optimizer, train::AdamW::create(model->parameters(), {}));
  train::TrainerState state = train::make_trainer_state(spec);
  state.step = 1;
  state.data_position = 1;
  return train::save_checkpoint(run_dir, model->parameters(), optimizer, state, spec.model(), 0);
}

void pin_paths(proto::TrainSpec& spec) {
  const std::string configs = std::string(MONE_SOURCE_DIR) + "/configs/models/";
  if (!spec.has_model() && !spec.model_spec().empty()) {
    const std::string& name = spec.model_spec();
    const std::string kept = configs + name.substr(name.find_last_of('/') + 1);  // npos + 1 == 0
    std::error_code ec;
    const bool known = name.ends_with(".textproto") && std::filesystem::is_regular_file(kept, ec);
    spec.set_model_spec(known ? kept : configs + "tiny_mone.textproto");
  }
  const std::string elsewhere = join_path(scratch_dir(), "input");  // absolute: taken as written
  if (!spec.train_data().empty()) spec.set_train_data(elsewhere);
  if (!spec.val_data().empty()) spec.set_val_data(elsewhere);
  if (!spec.tokenizer().empty()) spec.set_tokenizer(elsewhere);
}

void check_tokenizer(const train::Tokenizer& tokenizer, std::string_view extra_text) {
  const std::string fixed = "Hello, world!<|endoftext|> 12 345\n\t  x\xff\xfe\xc3 \u00fcn\u00efc\u00f6d\u00e9";
  for (std::string_view text : {std::string_view(fixed), extra_text}) {
    if (tokenizer.decode(tokenizer.encode(text)) != text) fail("decode(encode(text)) != text");
    if (tokenizer.decode(tokenizer.encode_with_special(text)) != text) {
      fail("decode(encode_with_special(text)) != text");
    }
  }
  const std::string path = join_path(scratch_dir(), "saved_tokenizer.json");
  if (Status saved = tokenizer.save(path); !saved.ok()) {
    fail("a loaded tokenizer cannot be saved: " + std::string(saved.message()));
  }
  StatusOr<train::Tokenizer> again = train::load_tokenizer_json(path);
  if (!again.ok()) fail("a saved tokenizer does not load: " + std::string(again.status().message()));
  const train::TokenizerParts &a = tokenizer.parts(), &b = again->parts();
  if (a.tokens != b.tokens || a.merges != b.merges || a.special_ids != b.special_ids ||
      a.split_pattern != b.split_pattern || a.ignore_merges != b.ignore_merges) {
    fail("a tokenizer changes when saved and loaded again");
  }
}

void check_model_spec(const proto::ModelSpec& spec) {
  const std::string text = models::model_spec_to_text(spec);
  StatusOr<proto::ModelSpec> again = models::parse_model_spec(text, "the spec's own text");
  if (!again.ok()) fail("a valid spec's text does not parse: " + std::string(again.status().message()));
  if (models::model_spec_to_text(*again) != text) fail("a spec changes when printed and parsed again");

  const nlohmann::json config = train::model_config_json(spec);
  StatusOr<std::string> written = train::dump_json(config, 2, "config.json");
  if (!written.ok()) fail("a valid spec's config.json cannot be written: " + std::string(written.status().message()));
  StatusOr<nlohmann::json> read = train::parse_json_text(*written, "config.json");
  if (!read.ok()) fail("a written config.json does not parse: " + std::string(read.status().message()));
  StatusOr<proto::ModelSpec> from_config = train::model_spec_from_config_json(*read, "config.json");
  if (!from_config.ok()) fail("a written config.json is refused: " + std::string(from_config.status().message()));
  if (train::model_config_json(*from_config) != config) fail("config.json changes when read and written again");

  StatusOr<models::SpecStats> stats = models::compute_spec_stats(spec, 1, spec.max_position_embeddings());
  if (!stats.ok()) fail("inspect fails on a valid spec: " + std::string(stats.status().message()));
}

void check_train_spec(proto::TrainSpec spec, const std::string& source) {
  pin_paths(spec);
  const std::string model_source = spec.model_spec();
  const Status resolved = train::resolve_train_spec(spec, source);
  if (!resolved.ok()) {
    const absl::string_view message = resolved.message();
    if (message.find(source) == absl::string_view::npos &&
        (model_source.empty() || message.find(model_source) == absl::string_view::npos)) {
      fail("the error names neither the train spec nor the model spec: " + std::string(message));
    }
    return;
  }
  check_model_spec(spec.model());
  const std::string text = train::train_spec_text(spec);
  StatusOr<proto::TrainSpec> again = train::parse_train_spec(text, "the spec's own text");
  if (!again.ok()) fail("a resolved train spec's text does not parse: " + std::string(again.status().message()));
  if (train::train_spec_text(*again) != text) fail("a train spec changes when printed and parsed again");

  const int64_t steps = train::total_training_steps(spec);
  if (steps < 1) fail("total_training_steps < 1");
  const train::LrSchedule schedule{spec.lr(), spec.warmup_steps(), steps, spec.min_lr_ratio()};
  if (!std::isfinite(schedule.at(0)) || !std::isfinite(schedule.at(steps - 1))) fail("a learning rate is not finite");
}

}  // namespace mone::fuzz
