// AdamW over a ParameterList: which weights decay, skipped non-finite steps, idle parameters,
// state loading; and gradient accumulation: two half batches averaged equal one full batch.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "autograd/tape.h"
#include "models/transformer.h"
#include "train/evaluate.h"
#include "train/optimizer.h"
#include "trainer_test_util.h"

namespace mone::train {
namespace {

models::NamedParameter param(const std::string& name, const Shape& shape, double value) {
  return {name, autograd::Variable(Tensor::full(shape, value), true, name)};
}

models::ParameterList small_list() {
  return {param("model.embed_tokens.weight", {4, 2}, 1.0), param("model.layers.0.input_layernorm.weight", {2}, 1.0),
          param("model.layers.0.self_attn.q_proj.weight", {2, 2}, 1.0), param("lm_head.weight", {4, 2}, 1.0)};
}

OptimizerConfig config(double wd) {
  OptimizerConfig c;
  c.adamw = {0.1, 0.9, 0.95, 1e-8, wd};
  c.grad_clip = 0;
  return c;
}

void set_grads(models::ParameterList& ps, double g) {
  for (auto& p : ps) p.param.set_grad(Tensor::full(p.param.shape(), g));
}

std::unique_ptr<models::Transformer> tiny(const std::string& ffn) {
  auto spec = models::parse_model_spec(trainer_testing::tiny_model_text(ffn), "<tiny>");
  REQUIRE(spec.ok());
  auto model = models::Transformer::create(*spec, 5);
  REQUIRE(model.ok());
  return std::move(*model);
}

TEST_SUITE("unit") {
  TEST_CASE("AdamW decays 2-D weights except the token embedding, unless asked to decay everything") {
    const models::ParameterList ps = small_list();
    CHECK_FALSE(decays_weight(ps[0], false));  // embedding
    CHECK_FALSE(decays_weight(ps[1], false));  // RMSNorm
    CHECK(decays_weight(ps[2], false));        // projection
    CHECK(decays_weight(ps[3], false));        // lm_head is a Linear
    for (const auto& p : ps) CHECK(decays_weight(p, true));

    // With a zero gradient AdamW's update is 0, so only the decay moves a weight: w (1 - lr·wd).
    models::ParameterList list = small_list();
    auto opt = AdamW::create(list, config(0.5));
    REQUIRE(opt.ok());
    set_grads(list, 0.0);
    auto r = opt->step(list, 0.1, 1.0);
    REQUIRE(r.ok());
    CHECK(r->applied);
    CHECK(list[0].param.value().to_vector<double>()[0] == 1.0);
    CHECK(list[1].param.value().to_vector<double>()[0] == 1.0);
    CHECK(list[2].param.value().to_vector<double>()[0] == doctest::Approx(1.0 - 0.1 * 0.5));
    CHECK(opt->step_count() == 1);
    for (const auto& p : list) CHECK_FALSE(p.param.has_grad());  // zeroed after the step
  }

  TEST_CASE("AdamW skips a step whose loss or gradient norm is not finite") {
    models::ParameterList list = small_list();
    auto opt = AdamW::create(list, config(0.1));
    REQUIRE(opt.ok());
    set_grads(list, 1.0);
    auto r = opt->step(list, 0.1, std::numeric_limits<double>::quiet_NaN());
    REQUIRE(r.ok());
    CHECK_FALSE(r->applied);
    CHECK(r->grad_norm == doctest::Approx(std::sqrt(8.0 + 2 + 4 + 8)));
    CHECK(opt->step_count() == 0);
    CHECK(list[2].param.value().to_vector<double>()[0] == 1.0);
    CHECK(opt->exp_avg()[2].to_vector<double>()[0] == 0.0);

    set_grads(list, 1.0);
    list[3].param.set_grad(Tensor::full({4, 2}, std::numeric_limits<double>::infinity()));
    r = opt->step(list, 0.1, 2.0);
    REQUIRE(r.ok());
    CHECK_FALSE(r->applied);
    CHECK_FALSE(std::isfinite(r->grad_norm));
    CHECK(opt->step_count() == 0);
    for (const auto& p : list) CHECK_FALSE(p.param.has_grad());
  }

  TEST_CASE("AdamW clips by the global norm and moves parameters without a gradient by momentum") {
    models::ParameterList list = small_list();
    OptimizerConfig c = config(0.0);
    c.grad_clip = 1.0;
    auto opt = AdamW::create(list, c);
    REQUIRE(opt.ok());
    set_grads(list, 3.0);
    auto r = opt->step(list, 0.1, 1.0);
    REQUIRE(r.ok());
    CHECK(r->grad_norm == doctest::Approx(3.0 * std::sqrt(22.0)));  // reported before clipping
    // m = (1 - β1)·g_clipped: the clipped gradient is 3 / (3·sqrt(22)) per element.
    CHECK(opt->exp_avg()[0].to_vector<double>()[0] == doctest::Approx(0.1 * 1.0 / std::sqrt(22.0)).epsilon(1e-5));
    // Step 2: only the embedding has a gradient; the others get zeros, and their momentum moves them.
    const double before = list[2].param.value().to_vector<double>()[0];
    list[0].param.set_grad(Tensor::full({4, 2}, 0.5));
    r = opt->step(list, 0.1, 1.0);
    REQUIRE(r.ok());
    CHECK(r->applied);
    CHECK(opt->step_count() == 2);
    CHECK(list[2].param.value().to_vector<double>()[0] < before);
  }

  TEST_CASE("AdamW::load_state checks names and shapes") {
    models::ParameterList list = small_list();
    auto opt = AdamW::create(list, config(0.1));
    REQUIRE(opt.ok());
    std::vector<Tensor> m, v;
    for (const auto& p : list) {
      m.push_back(Tensor::full(p.param.shape(), 0.25));
      v.push_back(Tensor::full(p.param.shape(), 0.5));
    }
    REQUIRE(opt->load_state(m, v, 7, "opt.safetensors").ok());
    CHECK(opt->step_count() == 7);
    CHECK(opt->exp_avg_sq()[3].to_vector<double>()[5] == 0.5);
    m[1] = Tensor::full({3}, 0.0);
    const Status s = opt->load_state(m, v, 7, "opt.safetensors");
    CHECK_FALSE(s.ok());
    CHECK(std::string(s.message()).find("model.layers.0.input_layernorm.weight.exp_avg") != std::string::npos);
    CHECK(std::string(s.message()).find("opt.safetensors") != std::string::npos);
  }

  TEST_CASE("reduce_gradients: one process keeps the gradients and gives a parameter without one zeros") {
    models::ParameterList list = small_list();
    set_grads(list, 0.75);
    list[2].param.zero_grad();  // no token reached it
    auto grads = reduce_gradients(list, nullptr);
    REQUIRE(grads.ok());
    REQUIRE(grads->size() == list.size());
    for (size_t i = 0; i < list.size(); ++i) {
      CHECK((*grads)[i].to_vector<double>()[0] == (i == 2 ? 0.0 : 0.75));
      CHECK((*grads)[i].storage() == list[i].param.grad().storage());  // the parameters' own gradients
    }
  }

  TEST_CASE("gradient accumulation: two half batches through backward_mean equal one full batch") {
    // A dense model: its loss is a mean over tokens, so the full-batch gradient is the mean of the
    // half-batch gradients (router statistics of MoE layers are not linear in the batch).
    auto model = tiny("DENSE");
    models::ParameterList params = model->parameters();
    std::vector<int32_t> ids(4 * 8), tgt(4 * 8);
    for (size_t i = 0; i < ids.size(); ++i) {
      ids[i] = static_cast<int32_t>((i * 7 + 3) % 64);
      tgt[i] = static_cast<int32_t>((i * 5 + 1) % 64);
    }
    auto run = [&](size_t begin, size_t rows, int64_t n) {
      std::vector<int32_t> a(ids.begin() + begin * 8, ids.begin() + (begin + rows) * 8);
      std::vector<int32_t> b(tgt.begin() + begin * 8, tgt.begin() + (begin + rows) * 8);
      auto out = model->forward(*Tensor::from_vector(a, {static_cast<int64_t>(rows), 8}),
                                *Tensor::from_vector(b, {static_cast<int64_t>(rows), 8}));
      REQUIRE(out.ok());
      REQUIRE(backward_mean(out->loss, n).ok());
    };
    run(0, 4, 1);
    std::vector<std::vector<double>> full;
    for (const auto& p : params) full.push_back(p.param.grad().to_vector<double>());
    zero_grads(params);
    run(0, 2, 2);
    run(2, 2, 2);
    for (size_t i = 0; i < params.size(); ++i) {
      const auto acc = params[i].param.grad().to_vector<double>();
      double max_diff = 0, max_abs = 0;
      for (size_t k = 0; k < acc.size(); ++k) {
        max_diff = std::max(max_diff, std::abs(acc[k] - full[i][k]));
        max_abs = std::max(max_abs, std::abs(full[i][k]));
      }
      CHECK_MESSAGE(max_diff <= 1e-5 * std::max(1.0, max_abs), params[i].name);
      CHECK(max_abs > 0);
    }
  }
}

}  // namespace
}  // namespace mone::train
