#include <doctest/doctest.h>

#include "autograd/tape.h"
#include "models/transformer.h"
#include "train/generate.h"

using namespace mone;

namespace {
std::unique_ptr<models::Transformer> tiny_model() {
  auto spec = value_or_die(models::parse_model_spec(R"pb(
    name: "gen" vocab_size: 29 hidden_size: 16 num_hidden_layers: 2 num_attention_heads: 4
    num_key_value_heads: 2 max_position_embeddings: 12 num_experts: 4 num_experts_per_tok: 2
    moe_intermediate_size: 16 neuron_topk: 4 num_shared_experts: 1 initializer_range: 0.3
  )pb", "<gen>"));
  return value_or_die(models::Transformer::create(spec, 3));
}
}  // namespace

TEST_SUITE("unit") {

TEST_CASE("KV-cache decoding gives the logits of a full forward at every position") {
  auto model = tiny_model();
  autograd::NoGradGuard no_grad;
  const std::vector<int32_t> ids = {3, 17, 5, 28, 0, 9, 9, 14};
  Tensor all = value_or_die(Tensor::from_vector<int32_t>(ids, {1, 8}));
  Tensor full = value_or_die(model->forward(all, Tensor())).logits.value();  // [8, V]
  // Prompt of 3, then one token at a time.
  std::vector<models::KvCache> caches;
  Tensor p = value_or_die(Tensor::from_vector<int32_t>({3, 17, 5}, {1, 3}));
  Tensor first = value_or_die(model->forward(p, Tensor(), &caches)).logits.value();
  auto expect_row = [&](const Tensor& got, int64_t got_row, int64_t full_row) {
    for (int64_t v = 0; v < 29; ++v) {
      CHECK(read_as_double(got, got_row * 29 + v) == doctest::Approx(read_as_double(full, full_row * 29 + v)).epsilon(1e-4));
    }
  };
  for (int64_t r = 0; r < 3; ++r) expect_row(first, r, r);
  for (int64_t t = 3; t < 8; ++t) {
    Tensor one = value_or_die(Tensor::from_vector<int32_t>({ids[t]}, {1, 1}));
    Tensor step = value_or_die(model->forward(one, Tensor(), &caches)).logits.value();
    CHECK(caches[0].length() == t + 1);
    expect_row(step, 0, t);
  }
}

TEST_CASE("sampling: greedy is argmax and the same seed gives the same tokens") {
  std::vector<double> logits = {0.1, 2.0, -1.0, 2.0, 0.5};
  train::SampleOptions greedy;
  greedy.temperature = 0;
  CHECK(train::sample_token(logits, greedy, 0.99) == 1);  // ties: the lower id
  train::SampleOptions top1;
  top1.top_k = 1;
  CHECK(train::sample_token(logits, top1, 0.7) == 1);
  train::SampleOptions nucleus;
  nucleus.top_p = 0.5;  // ids 1 and 3 hold ~0.73 of the mass; the first alone ~0.37 < 0.5
  for (double u : {0.0, 0.3, 0.6, 0.99}) {
    const int32_t t = train::sample_token(logits, nucleus, u);
    CHECK((t == 1 || t == 3));
  }
  // u walks the cumulative distribution: u near 0 picks the most likely token.
  train::SampleOptions plain;
  CHECK(train::sample_token(logits, plain, 0.0) == 1);

  auto model = tiny_model();
  train::SampleOptions o;
  o.max_tokens = 6;
  o.seed = 42;
  auto a = value_or_die(train::generate(*model, {1, 2}, o)).ids;
  auto b = value_or_die(train::generate(*model, {1, 2}, o)).ids;
  CHECK(a == b);
  CHECK(a.size() == 6);
  o.seed = 43;
  auto c = value_or_die(train::generate(*model, {1, 2}, o)).ids;
  CHECK(c.size() == 6);
  // on_token returning false stops at once.
  int seen = 0;
  auto e = value_or_die(train::generate(*model, {1, 2}, o, [&](int32_t) { return ++seen < 2; }));
  CHECK(e.ids.size() == 2);
  CHECK_FALSE(train::generate(*model, {}, o).ok());
  CHECK_FALSE(train::generate(*model, std::vector<int32_t>(13, 1), o).ok());
}

TEST_CASE("generation slides on past the context: each token is the greedy choice of its window") {
  auto model = tiny_model();  // a 12-token context: windows of 6
  train::SampleOptions o;
  o.temperature = 0;
  o.max_tokens = 40;
  const std::vector<int32_t> prompt = {4, 8, 15, 16, 23, 3, 1, 2, 7, 11};
  const train::Generation g = value_or_die(train::generate(*model, prompt, o));
  REQUIRE(g.ids.size() == 40);  // no longer stops when the context is full
  // Reference without caches: the context grows token by token; when it is full it restarts from
  // the last 6 tokens of everything so far.
  autograd::NoGradGuard no_grad;
  std::vector<int32_t> context = prompt, history = prompt;
  int64_t slides = 0;
  for (size_t i = 0; i < g.ids.size(); ++i) {
    Tensor ids = value_or_die(Tensor::from_vector<int32_t>(context, {1, static_cast<int64_t>(context.size())}));
    Tensor logits = value_or_die(model->forward(ids, Tensor())).logits.value();
    const int64_t V = 29, last = static_cast<int64_t>(context.size()) - 1;
    int32_t best = 0;
    for (int32_t v = 1; v < V; ++v) {
      if (read_as_double(logits, last * V + v) > read_as_double(logits, last * V + best)) best = v;
    }
    REQUIRE_MESSAGE(g.ids[i] == best, "token ", i);
    history.push_back(best);
    if (context.size() + 1 > 12) {
      context.assign(history.end() - 6, history.end());
      ++slides;
    } else {
      context.push_back(best);
    }
  }
  CHECK(g.context_slides == slides);
  CHECK(slides >= 5);
}

TEST_CASE("stop strings: nothing from the stop string on is shown, and a partial match is held back") {
  train::StopStrings s({"\n\n", "END"});
  CHECK(s.feed("Hello E") == "Hello ");  // "E" may start "END"
  CHECK(s.feed("N") == "");
  CHECK(s.feed("X and\n") == "ENX and");
  CHECK_FALSE(s.done());
  CHECK(s.feed("\nmore") == "");
  CHECK(s.done());
  CHECK(s.feed("after") == "");
  CHECK(s.finish() == "");
  train::StopStrings t({"END"});
  CHECK(t.feed("the EN") == "the ");
  CHECK(t.finish() == "EN");  // the end: what was held back is shown
  train::StopStrings none({});
  CHECK(none.feed("abc") == "abc");
}

}  // TEST_SUITE
