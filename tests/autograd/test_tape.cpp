#include <doctest/doctest.h>

#include "autograd/elementwise.h"
#include "autograd/gradcheck.h"
#include "autograd/tape.h"
#include "core/rng.h"
#include "ops/elementwise.h"

using namespace mone;
using namespace mone::autograd;

namespace {
Variable leaf(std::vector<double> v, Shape s, const char* name = "") {
  return Variable(value_or_die(Tensor::from_vector<double>(v, s)), true, name);
}
}  // namespace

TEST_SUITE("unit") {

TEST_CASE("backward accumulates gradients through shared subexpressions") {
  current_tape().clear();
  Variable x = leaf({1, 2, 3}, {3}, "x");
  Variable w = leaf({4, 5, 6}, {3}, "w");
  // y = x*w + x  ->  dy/dx = w + 1, dy/dw = x
  Variable xw = value_or_die(mul(x, w));
  Variable y = value_or_die(add(xw, x));
  CHECK(current_tape().size() == 2);
  Tensor seed = Tensor::full({3}, 1.0, DType::kF64);
  REQUIRE(backward(y, seed).ok());
  CHECK(x.grad().to_vector<double>() == std::vector<double>{5, 6, 7});
  CHECK(w.grad().to_vector<double>() == std::vector<double>{1, 2, 3});
  CHECK(current_tape().size() == 0);
  // A second forward+backward accumulates into the leaves (gradient accumulation).
  Variable y2 = value_or_die(mul(x, w));
  REQUIRE(backward(y2, seed).ok());
  CHECK(x.grad().to_vector<double>() == std::vector<double>{9, 11, 13});
  // Intermediates do not keep their gradient.
  CHECK_FALSE(xw.has_grad());
}

TEST_CASE("the gradient-ready hook names each leaf once, after its last contribution, earliest layer last") {
  current_tape().clear();
  // A chain: h1 = a*x, h2 = h1 + b, h3 = h2*c, y = h3 + a (a is used first and last).
  // The walk runs the entries in reverse: c is final after the third entry, b after the second,
  // a and x only after the first (a's earlier use), though a gets a contribution at the start.
  Variable x = leaf({1, 2}, {2}, "x"), a = leaf({3, 4}, {2}, "a"), b = leaf({5, 6}, {2}, "b");
  Variable c = leaf({7, 8}, {2}, "c"), unused = leaf({9, 9}, {2}, "unused");
  Variable h1 = value_or_die(mul(a, x));
  Variable h2 = value_or_die(add(h1, b));
  Variable h3 = value_or_die(mul(h2, c));
  Variable y = value_or_die(add(h3, a));
  Variable later = value_or_die(mul(unused, x));  // after the loss: not part of its backward
  std::vector<std::string> order;
  std::vector<std::vector<double>> at_ready;
  auto hook = [&](const Variable& v) -> Status {
    order.push_back(v.name());
    at_ready.push_back(v.grad().to_vector<double>());
    return absl::OkStatus();
  };
  REQUIRE(backward(y, Tensor::full({2}, 1.0, DType::kF64), hook).ok());
  CHECK(order == std::vector<std::string>{"c", "b", "a", "x"});
  REQUIRE(at_ready.size() == 4);
  // What each leaf held when named is its final gradient.
  CHECK(at_ready[0] == c.grad().to_vector<double>());
  CHECK(at_ready[1] == b.grad().to_vector<double>());
  CHECK(at_ready[2] == a.grad().to_vector<double>());
  CHECK(a.grad().to_vector<double>() == std::vector<double>{1 + 7 * 1, 1 + 8 * 2});  // 1 + c*x
  CHECK(at_ready[3] == x.grad().to_vector<double>());
  CHECK_FALSE(unused.has_grad());
  (void)later;

  // An error from the hook stops the backward with that error.
  Variable z = value_or_die(mul(a, b));
  Variable w = value_or_die(mul(z, c));
  int calls = 0;
  const Status stopped = backward(w, Tensor::full({2}, 1.0, DType::kF64), [&](const Variable&) -> Status {
    ++calls;
    return absl::AbortedError("stop here");
  });
  CHECK(stopped.message() == "stop here");
  CHECK(calls == 1);
  CHECK(current_tape().size() == 0);
}

TEST_CASE("retain_grad keeps an intermediate's gradient") {
  current_tape().clear();
  Variable x = leaf({1, 2}, {2});
  Variable h = value_or_die(scale(x, 3.0));
  h.retain_grad();
  Variable y = value_or_die(mul(h, h));
  REQUIRE(backward(y, Tensor::full({2}, 1.0, DType::kF64)).ok());
  CHECK(h.grad().to_vector<double>() == std::vector<double>{6, 12});  // 2h
  CHECK(x.grad().to_vector<double>() == std::vector<double>{18, 36});
}

TEST_CASE("a saved tensor modified in place makes backward fail with the op, the field and versions") {
  current_tape().clear();
  Variable a = leaf({1, 2}, {2});
  Variable b = leaf({3, 4}, {2});
  Variable y = value_or_die(mul(a, b));
  b.value().fill_(0.0);  // mul saved b
  Status s = backward(y, Tensor::full({2}, 1.0, DType::kF64));
  REQUIRE_FALSE(s.ok());
  const std::string msg(s.message());
  CHECK(msg.find("backward of mul") != std::string::npos);
  CHECK(msg.find("saved tensor b (") != std::string::npos);  // named, not "saved tensor 1"
  CHECK(msg.find("modified in place") != std::string::npos);
  CHECK(msg.find("version 0, now 1") != std::string::npos);
}

TEST_CASE("a backward that returns a gradient of the wrong shape is caught") {
  current_tape().clear();
  Variable x = leaf({1, 2, 3}, {3});
  Variable out(Tensor::zeros({3}, DType::kF64));
  record("broken_op", {x}, {out}, NothingSaved{}, [](const TensorList&, const NothingSaved&) -> StatusOr<TensorList> {
    return TensorList{Tensor::zeros({2}, DType::kF64)};
  });
  Status s = backward(out, Tensor::full({3}, 1.0, DType::kF64));
  REQUIRE_FALSE(s.ok());
  const std::string msg(s.message());
  CHECK(msg.find("broken_op") != std::string::npos);
  CHECK(msg.find("input 0") != std::string::npos);
  CHECK(msg.find("f64[2]") != std::string::npos);
  CHECK(msg.find("expected f64[3]") != std::string::npos);
  // Wrong dtype too.
  Variable out2(Tensor::zeros({3}, DType::kF64));
  record("broken_dtype", {x}, {out2}, NothingSaved{}, [](const TensorList&, const NothingSaved&) -> StatusOr<TensorList> {
    return TensorList{Tensor::zeros({3}, DType::kF32)};
  });
  Status s2 = backward(out2, Tensor::full({3}, 1.0, DType::kF64));
  REQUIRE_FALSE(s2.ok());
  CHECK(std::string(s2.message()).find("broken_dtype") != std::string::npos);
}

TEST_CASE("NoGradGuard records nothing") {
  current_tape().clear();
  Variable x = leaf({1, 2}, {2});
  {
    NoGradGuard guard;
    Variable y = value_or_die(mul(x, x));
    CHECK_FALSE(y.requires_grad());
    CHECK(current_tape().size() == 0);
  }
  Variable z = value_or_die(mul(x, x));
  CHECK(z.requires_grad());
  CHECK(current_tape().size() == 1);
  current_tape().clear();
}

TEST_CASE("backward twice through one tape fails cleanly") {
  current_tape().clear();
  Variable x = leaf({2}, {1});
  Variable y = value_or_die(mul(x, x));
  REQUIRE(backward(y).ok());
  Status again = backward(y);
  REQUIRE_FALSE(again.ok());
  CHECK(std::string(again.message()).find("second backward") != std::string::npos);
  CHECK(x.grad().to_vector<double>() == std::vector<double>{4});  // unchanged by the refused call
}

TEST_CASE("a non-scalar loss needs a seed") {
  current_tape().clear();
  Variable x = leaf({1, 2}, {2});
  Variable y = value_or_die(mul(x, x));
  CHECK_FALSE(backward(y).ok());
  current_tape().clear();
}

TEST_CASE("the tape prints one line per op with shapes") {
  current_tape().clear();
  Variable x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  Variable b = leaf({1, 2, 3}, {3});
  Variable y = value_or_die(add(x, b));
  Variable z = value_or_die(scale(y, 2.0));
  const std::string s = current_tape().to_string();
  CHECK(s == "0: add(f64[2, 3] cpu, f64[3] cpu) -> f64[2, 3] cpu\n1: scale(f64[2, 3] cpu) -> f64[2, 3] cpu\n");
  current_tape().clear();
}

TEST_CASE("ops reject mismatched dtypes and shapes with a Status naming the op") {
  Variable a = leaf({1, 2}, {2});
  Variable b(Tensor::zeros({2}, DType::kF32));
  auto r = add(a, b);
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.status().message()).find("add") != std::string::npos);
  Variable c = leaf({1, 2, 3}, {3});
  auto r2 = mul(a, c);
  REQUIRE_FALSE(r2.ok());
  CHECK(std::string(r2.status().message()).find("f64[3]") != std::string::npos);
  current_tape().clear();
}

}  // TEST_SUITE("unit")

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: elementwise ops with broadcasting") {
  Generator gen(11);
  Variable a(randn({4, 3}, DType::kF64, gen), true, "a");
  Variable b(randn({3}, DType::kF64, gen), true, "b");
  for (int which = 0; which < 4; ++which) {
    auto fn = [which](const std::vector<Variable>& in) -> StatusOr<Variable> {
      switch (which) {
        case 0: return add(in[0], in[1]);
        case 1: return sub(in[1], in[0]);  // the small operand first
        case 2: return mul(in[0], in[1]);
        default: return scale(in[0], -1.5);
      }
    };
    Status s = gradcheck(fn, {a, b});
    CHECK_MESSAGE(s.ok(), s.message());
  }
}

TEST_CASE("gradcheck catches a wrong backward") {
  // An op whose forward is x*x but whose backward claims x (missing the factor 2).
  Generator gen(5);
  Variable x(randn({5}, DType::kF64, gen), true, "x");
  auto fn = [](const std::vector<Variable>& in) -> StatusOr<Variable> {
    MONE_ASSIGN_OR_RETURN(Tensor y, ops::mul(in[0].value(), in[0].value()));
    Variable out(y);
    struct Saved {
      Tensor x;
      NamedTensors tensors() const { return {{"x", x}}; }
    };
    record("wrong_square", {in[0]}, {out}, Saved{in[0].value()},
           [](const TensorList& g, const Saved& s) -> StatusOr<TensorList> {
             MONE_ASSIGN_OR_RETURN(Tensor gx, ops::mul(g[0], s.x));
             return TensorList{gx};
           });
    return out;
  };
  Status s = gradcheck(fn, {x});
  REQUIRE_FALSE(s.ok());
  CHECK(std::string(s.message()).find("input 0 (x)") != std::string::npos);
}

}  // TEST_SUITE("gradcheck")
