// autograd::cast, the seam of mixed precision: values rounded as Tensor::to rounds them, gradients
// returned in the input's dtype, no tape entry for a cast to the same dtype, and central differences
// through an f64 -> f32 -> f64 round trip.
#include <doctest/doctest.h>

#include "autograd/cast.h"
#include "autograd/elementwise.h"
#include "autograd/gradcheck.h"
#include "autograd/tape.h"
#include "core/rng.h"

using namespace mone;
using namespace mone::autograd;

TEST_SUITE("unit") {

TEST_CASE("cast: bf16 rounds to nearest even, the gradient comes back in the input's dtype") {
  current_tape().clear();
  // 1 + 2^-8 lies halfway between the bf16 neighbours 1 and 1 + 2^-7: it rounds to the even one, 1.
  // 1 + 3·2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: it rounds to 1 + 2^-6.
  const std::vector<float> in = {1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, -2.5f, 0.0f};
  Variable x(value_or_die(Tensor::from_vector(in, {4})), true, "x");
  Variable y = value_or_die(cast(x, DType::kBF16));
  CHECK(y.dtype() == DType::kBF16);
  CHECK(y.value().to_vector<double>() == std::vector<double>{1.0, 1.0 + 0x1p-6, -2.5, 0.0});
  CHECK(current_tape().size() == 1);
  const Tensor seed = value_or_die(value_or_die(Tensor::from_vector<float>({0.5f, -1.0f, 3.0f, 1e-3f}, {4})).to(DType::kBF16));
  REQUIRE(backward(y, seed).ok());
  REQUIRE(x.has_grad());
  CHECK(x.grad().dtype() == DType::kF32);
  // The gradient is dy itself, widened (1e-3 is bf16's nearest value to it, 0.0010004043579).
  CHECK(x.grad().to_vector<double>() == std::vector<double>{0.5, -1.0, 3.0, static_cast<double>(static_cast<float>(bf16(1e-3f)))});
}

TEST_CASE("cast: to the same dtype returns the variable itself and records nothing") {
  current_tape().clear();
  Variable x(Tensor::full({2, 3}, 1.5), true, "x");
  Variable y = value_or_die(cast(x, DType::kF32));
  CHECK(y.is_same(x));
  CHECK(current_tape().size() == 0);
  // upcast: bf16 -> f32, the others stay.
  CHECK(value_or_die(upcast(x)).is_same(x));
  Variable b = value_or_die(cast(x, DType::kBF16));
  Variable w = value_or_die(upcast(b));
  CHECK(w.dtype() == DType::kF32);
  CHECK(current_tape().size() == 2);
  current_tape().clear();
}

TEST_CASE("cast: gradients of two casts of one f32 parameter add up in f32") {
  // As a tied embedding's two uses under mixed precision (bf16 there; f64 here, where the CPU adds).
  current_tape().clear();
  Variable p(value_or_die(Tensor::from_vector<float>({1.0f, 2.0f}, {2})), true, "p");
  Variable a = value_or_die(cast(p, DType::kF64));
  Variable b = value_or_die(cast(p, DType::kF64));
  Variable l = value_or_die(add(a, b));
  const Tensor seed = value_or_die(Tensor::from_vector<double>({0.25, 0.125}, {2}));
  REQUIRE(backward(l, seed).ok());
  CHECK(p.grad().dtype() == DType::kF32);
  CHECK(p.grad().to_vector<double>() == std::vector<double>{0.5, 0.25});
}

TEST_CASE("cast: integer dtypes and undefined inputs are refused by name") {
  Variable i(Tensor::zeros({3}, DType::kI64), false, "ids");
  auto r = cast(i, DType::kF32);
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.status().message()).find("cast: i64[3] cpu to f32") != std::string::npos);
  Variable f(Tensor::zeros({3}), true, "x");
  r = cast(f, DType::kI32);
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.status().message()).find("only floating dtypes") != std::string::npos);
  CHECK_FALSE(cast(Variable(), DType::kF32).ok());
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: f64 -> f32 -> f64 round trips, alone and around a product in f32") {
  Generator gen(7);
  Variable x(randn({3, 5}, DType::kF64, gen), true, "x");
  Variable w(randn({3, 5}, DType::kF64, gen), true, "w");
  // f32 rounding (2^-24 relative) over a step of 2·eps = 2e-2: about 1e-6 in the differences.
  GradcheckOptions o;
  o.eps = 1e-2;
  o.atol = 1e-4;
  o.rtol = 1e-4;
  auto round_trip = [](const std::vector<Variable>& in) -> StatusOr<Variable> {
    MONE_ASSIGN_OR_RETURN(Variable x32, cast(in[0], DType::kF32));
    return cast(x32, DType::kF64);
  };
  Status s = gradcheck(round_trip, {x}, o);
  CHECK_MESSAGE(s.ok(), s.message());
  // y = cast64(cast32(x) · cast32(w)): the product computed in f32, both gradients back in f64.
  auto product = [](const std::vector<Variable>& in) -> StatusOr<Variable> {
    MONE_ASSIGN_OR_RETURN(Variable a, cast(in[0], DType::kF32));
    MONE_ASSIGN_OR_RETURN(Variable b, cast(in[1], DType::kF32));
    MONE_ASSIGN_OR_RETURN(Variable y, mul(a, b));
    return cast(y, DType::kF64);
  };
  s = gradcheck(product, {x, w}, o);
  CHECK_MESSAGE(s.ok(), s.message());
}

}  // TEST_SUITE("gradcheck")
