#include <doctest/doctest.h>

#include <cmath>

#include "core/rng.h"
#include "core/tensor.h"

using namespace mone;

TEST_SUITE("unit") {

TEST_CASE("views share storage and index the right elements") {
  Tensor t = value_or_die(Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3}));
  CHECK(t.is_contiguous());
  Tensor tt = value_or_die(t.transpose(0, 1));
  CHECK(tt.shape() == Shape{3, 2});
  CHECK_FALSE(tt.is_contiguous());
  CHECK(tt.storage() == t.storage());
  // tt[i][j] == t[j][i]
  CHECK(tt.to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
  Tensor c = tt.contiguous();
  CHECK(c.is_contiguous());
  CHECK(c.storage() != t.storage());
  CHECK(c.to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});

  Tensor s = value_or_die(t.slice(1, 1, 3));
  CHECK(s.shape() == Shape{2, 2});
  CHECK(s.to_vector<float>() == std::vector<float>{1, 2, 4, 5});
  Tensor r = value_or_die(s.reshape({4}));  // copies: s is not contiguous
  CHECK(r.to_vector<float>() == std::vector<float>{1, 2, 4, 5});
  Tensor r2 = value_or_die(t.reshape({3, -1}));
  CHECK(r2.shape() == Shape{3, 2});
  CHECK(r2.storage() == t.storage());
}

TEST_CASE("bad reshapes and transposes and slices are errors and not crashes") {
  Tensor t = Tensor::zeros({2, 3});
  CHECK_FALSE(t.reshape({4}).ok());
  CHECK_FALSE(t.reshape({-1, -1}).ok());
  CHECK_FALSE(t.transpose(0, 2).ok());
  CHECK_FALSE(t.slice(1, 2, 4).ok());
  auto st = t.reshape({5});
  CHECK(std::string(st.status().message()).find("[2, 3]") != std::string::npos);
}

TEST_CASE("dtype conversion round-trips and bf16 rounds to nearest even") {
  Tensor t = value_or_die(Tensor::from_vector<double>({1.5, -2.25, 3.0}, {3}));
  Tensor f = value_or_die(t.to(DType::kF32));
  CHECK(f.dtype() == DType::kF32);
  CHECK(f.to_vector<double>() == std::vector<double>{1.5, -2.25, 3.0});
  Tensor i = value_or_die(t.to(DType::kI64));
  CHECK(i.to_vector<int64_t>() == std::vector<int64_t>{1, -2, 3});
  // 1 + 2^-8 lies exactly between two bf16 values (1 and 1 + 2^-7): ties go to the even one.
  CHECK(static_cast<float>(bf16(1.0f + 1.0f / 256)) == 1.0f);
  CHECK(static_cast<float>(bf16(1.0f + 3.0f / 256)) == 1.0f + 4.0f / 256);
  Tensor b = value_or_die(f.to(DType::kBF16));
  CHECK(b.to_vector<float>() == std::vector<float>{1.5f, -2.25f, 3.0f});
}

TEST_CASE("in-place writes bump the storage version") {
  Tensor t = Tensor::zeros({4});
  const uint64_t v0 = t.version();
  t.fill_(2.0);
  CHECK(t.version() == v0 + 1);
  Tensor view = value_or_die(t.slice(0, 1, 3));
  view.fill_(5.0);
  CHECK(t.version() == v0 + 2);  // a view shares the counter
  CHECK(t.to_vector<float>() == std::vector<float>{2, 5, 5, 2});
  CHECK(t.copy_from(Tensor::full({4}, 1.0)).ok());
  CHECK(t.version() == v0 + 3);
  CHECK_FALSE(t.copy_from(Tensor::zeros({3})).ok());
}

TEST_CASE("fill_ and clone: every dtype, odd lengths, offsets, strided views") {
  for (DType dt : {DType::kF32, DType::kF64, DType::kBF16, DType::kI32, DType::kI64}) {
    INFO(dtype_name(dt));
    Tensor t = Tensor::zeros({37}, dt);
    for (double value : {3.0, -0.0, 0.0, -7.0}) {
      value_or_die(t.slice(0, 5, 36)).fill_(value);  // contiguous, at an offset: 31 elements
      const std::vector<double> got = t.to_vector<double>();
      for (int64_t i = 0; i < 37; ++i) {
        const double want = i >= 5 && i < 36 ? value : 0.0;  // 0..4 and 36 untouched
        CHECK(got[i] == want);
        if (i >= 5 && i < 36 && (dt == DType::kF32 || dt == DType::kF64 || dt == DType::kBF16)) {
          CHECK(std::signbit(got[i]) == std::signbit(value));  // -0.0 written as -0.0
        }
      }
    }
    // A column of a [6, 5] matrix: strided, the element-by-element path.
    Tensor m = Tensor::full({6, 5}, 1.0, dt);
    value_or_die(m.slice(1, 2, 3)).fill_(9.0);
    const std::vector<double> mv = m.to_vector<double>();
    for (int64_t i = 0; i < 30; ++i) CHECK(mv[i] == (i % 5 == 2 ? 9.0 : 1.0));
  }
  // Clones of views: rows with a gap between them (one memcpy per row), and a transpose.
  Tensor x = value_or_die(Tensor::from_vector<float>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {3, 4}));
  const Tensor cols = value_or_die(x.slice(1, 1, 3)).clone();
  CHECK(cols.to_vector<float>() == std::vector<float>{1, 2, 5, 6, 9, 10});
  const Tensor xt = value_or_die(x.transpose(0, 1)).clone();
  CHECK(xt.to_vector<float>() == std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  const Tensor empty_rows = value_or_die(x.slice(0, 1, 1)).clone();
  CHECK(empty_rows.numel() == 0);
}

TEST_CASE("CUDA tensors fail cleanly without a GPU") {
  if (cuda_device_count() > 0) return;
  auto r = Tensor::zeros({2}).to(Device::cuda());
  CHECK_FALSE(r.ok());
}

TEST_CASE("the RNG is counter-based: same numbers for the same seed and any split") {
  Generator a(42), b(42), c(43);
  Tensor x = randn({1000}, DType::kF64, a);
  Tensor y = randn({1000}, DType::kF64, b);
  Tensor z = randn({1000}, DType::kF64, c);
  CHECK(x.to_vector<double>() == y.to_vector<double>());
  CHECK(x.to_vector<double>() != z.to_vector<double>());
  // Drawing 400 then 600 gives the same stream as 1000 at once.
  Generator d(42);
  Tensor p = randn({400}, DType::kF64, d);
  Tensor q = randn({600}, DType::kF64, d);
  auto xs = x.to_vector<double>();
  CHECK(p.to_vector<double>() == std::vector<double>(xs.begin(), xs.begin() + 400));
  CHECK(q.to_vector<double>() == std::vector<double>(xs.begin() + 400, xs.end()));
  CHECK(d.offset() == 1000);
  // Moments of 1000 standard normals: mean within 0.1, variance within 0.15.
  double mean = 0, var = 0;
  for (double v : xs) mean += v;
  mean /= xs.size();
  for (double v : xs) var += (v - mean) * (v - mean);
  var /= xs.size();
  CHECK(std::abs(mean) < 0.1);
  CHECK(std::abs(var - 1.0) < 0.15);
  Generator u(7);
  Tensor w = rand_uniform({1000}, DType::kF32, u, -1.0, 1.0);
  for (float v : w.to_vector<float>()) CHECK((v >= -1.0f && v < 1.0f));
}

TEST_CASE("Philox matches the Random123 known-answer vector") {
  // Random123 kat_vectors: philox4x32_10, counter 0, key 0.
  auto r = philox4x32(0, 0);
  CHECK(r[0] == 0x6627e8d5u);
  CHECK(r[1] == 0xe169c58du);
  CHECK(r[2] == 0xbc57ac4cu);
  CHECK(r[3] == 0x9b00dbd8u);
}

}  // TEST_SUITE

TEST_SUITE("unit") {
TEST_CASE("randn fills bf16 tensors with the rounded f32 stream") {
  Generator a(3), b(3);
  Tensor h = randn({64}, DType::kBF16, a);
  Tensor f = randn({64}, DType::kF32, b);
  auto hv = h.to_vector<float>();
  auto fv = f.to_vector<float>();
  for (size_t i = 0; i < hv.size(); ++i) CHECK(hv[i] == static_cast<float>(bf16(fv[i])));
}
}
