// Run under `mpirun -np R` by tests/dist/test_mpi.cpp: every collective of the MPI communicator
// and DataParallel's bucketed average and owner broadcasts, checked on every rank against values
// computed here from the rank numbers. Prints "rank r of R: ok" or each mismatch; exit 0 or 1.
#include <cstdio>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "dist/data_parallel.h"

namespace {

using mone::DType;
using mone::Tensor;
using namespace mone::dist;

int g_failures = 0;
int g_rank = 0;

void expect(bool ok, const std::string& what) {
  if (ok) return;
  ++g_failures;
  std::printf("rank %d: FAILED %s\n", g_rank, what.c_str());
}

void expect_ok(const absl::Status& s, const std::string& what) { expect(s.ok(), what + ": " + std::string(s.message())); }

}  // namespace

int main() {
  auto opened = open_communicator(Backend::kMpi);
  if (!opened.ok()) {
    std::printf("open_communicator: %s\n", std::string(opened.status().message()).c_str());
    return 1;
  }
  Communicator& comm = **opened;
  const int R = comm.world_size(), r = comm.rank();
  g_rank = r;
  expect(comm.backend() == "MPI", "backend name");

  // all_reduce_sum: rank q contributes (q + 1)·(i + 1) to element i, so the sum is R(R+1)/2·(i + 1).
  const int64_t n = 1000;
  const double tri = R * (R + 1) / 2.0;
  for (DType dtype : {DType::kF32, DType::kF64, DType::kI32, DType::kI64}) {
    Tensor t = *Tensor::full({n}, 0.0, DType::kF64).to(dtype);
    for (int64_t i = 0; i < n; ++i) {
      Tensor one = *Tensor::full({1}, (r + 1.0) * (i + 1), DType::kF64).to(dtype);
      expect_ok(t.slice(0, i, i + 1)->copy_from(one), "fill");
    }
    expect_ok(comm.all_reduce_sum(t), std::string("all_reduce_sum ") + mone::dtype_name(dtype));
    const std::vector<double> got = t.to_vector<double>();
    bool same = true;
    for (int64_t i = 0; i < n; ++i) same = same && got[i] == tri * (i + 1);
    expect(same, std::string("all_reduce_sum values ") + mone::dtype_name(dtype));
  }
  const absl::Status bf16_sum = comm.all_reduce_sum(Tensor::zeros({4}, DType::kBF16));
  expect(!bf16_sum.ok() && std::string(bf16_sum.message()).find("bf16") != std::string::npos,
         "bf16 all_reduce_sum is refused");

  // broadcast from the last rank: every rank ends with its values.
  Tensor b = Tensor::full({7}, r * 10.0 + 1);
  expect_ok(comm.broadcast(b, R - 1), "broadcast");
  for (double x : b.to_vector<double>()) expect(x == (R - 1) * 10.0 + 1, "broadcast values");
  Tensor bits = Tensor::full({3}, r == 0 ? 1.5 : -2.0, DType::kBF16);
  expect_ok(comm.broadcast(bits, 0), "broadcast bf16");
  for (double x : bits.to_vector<double>()) expect(x == 1.5, "broadcast bf16 values");
  expect(!comm.broadcast(b, R).ok(), "broadcast from a rank that does not exist is refused");

  expect_ok(comm.barrier(), "barrier");

  // all_to_all: send[i][j] = 100·r + 10·i + j, so recv[i][j] = 100·i + 10·r + j.
  Tensor send = Tensor::zeros({R, 3}, DType::kI64), recv = Tensor::zeros({R, 3}, DType::kI64);
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < 3; ++j) send.data<int64_t>()[i * 3 + j] = 100 * r + 10 * i + j;
  }
  expect_ok(comm.all_to_all(send, recv), "all_to_all");
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < 3; ++j) expect(recv.data<int64_t>()[i * 3 + j] == 100 * i + 10 * r + j, "all_to_all values");
  }

  // DataParallel: three tensors, buckets of 64 bytes (so [10] and [4, 5] each take their own);
  // rank q's gradients are (q + 1)·base, so the mean is (R + 1)/2·base.
  std::vector<Tensor> params = {Tensor::zeros({10}), Tensor::zeros({4, 5}), Tensor::zeros({3})};
  auto dp = DataParallel::create(comm, params, {64, true});
  expect(dp.ok(), "DataParallel::create");
  expect(dp->reduce_buckets().size() == 3, "three buckets of at most 64 bytes");
  std::vector<Tensor> grads;
  for (const Tensor& p : params) {
    std::vector<float> v(p.numel());
    for (int64_t i = 0; i < p.numel(); ++i) v[i] = static_cast<float>((r + 1) * (i + 1));
    grads.push_back(*Tensor::from_vector(v, p.shape()));
  }
  expect_ok(dp->average(grads), "average");
  for (const Tensor& g : grads) {
    const std::vector<double> v = g.to_vector<double>();
    for (size_t i = 0; i < v.size(); ++i) expect(v[i] == (R + 1) / 2.0 * (i + 1), "average values");
  }
  // ZeRO-1 broadcast_from_owners: each owner writes 1000 + its rank; everyone receives.
  for (size_t i = 0; i < params.size(); ++i) {
    if (dp->owns(i)) params[i].fill_(1000 + r);
  }
  expect_ok(dp->broadcast_from_owners(params, true), "broadcast_from_owners");
  for (size_t i = 0; i < params.size(); ++i) {
    for (double x : params[i].to_vector<double>()) expect(x == 1000 + dp->owners()[i], "owners' values");
  }

  std::printf("rank %d of %d: %s\n", r, R, g_failures == 0 ? "ok" : "FAILED");
  return g_failures == 0 ? 0 : 1;
}
