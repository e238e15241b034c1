// Communication volume per training step and per rank, for data parallelism alone and for expert
// parallelism with data parallelism for the rest (formulas: dist/comm_volume.h), read from model
// specs (default: the source tree's mone-925m and mone-2.81b). docs/DISTRIBUTED.md quotes its output.
//   build/bin/mone_comm_volume
//   build/bin/mone_comm_volume --ranks 8,64 --tokens-per-rank 16384 SPEC...
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dist/comm_volume.h"
#include "models/spec.h"
#include "models/spec_stats.h"

namespace {

using mone::dist::CommVolume;
using mone::dist::ModelCommShape;

double gib(double bytes) { return bytes / (1024.0 * 1024.0 * 1024.0); }

std::vector<int> parse_ranks(const std::string& list) {
  std::vector<int> out;
  for (size_t start = 0; start <= list.size();) {
    const size_t comma = list.find(',', start);
    out.push_back(std::atoi(list.substr(start, comma - start).c_str()));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> ranks = {8, 64};
  int64_t tokens = 8 * 2048;  // per rank per step: 8 sequences of 2048 tokens
  int grad_bytes = 4, act_bytes = 2;
  std::vector<std::string> specs;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--ranks" && i + 1 < argc) {
      ranks = parse_ranks(argv[++i]);
    } else if (a == "--tokens-per-rank" && i + 1 < argc) {
      tokens = std::atoll(argv[++i]);
    } else if (a == "--grad-bytes" && i + 1 < argc) {
      grad_bytes = std::atoi(argv[++i]);
    } else if (a == "--activation-bytes" && i + 1 < argc) {
      act_bytes = std::atoi(argv[++i]);
    } else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "usage: mone_comm_volume [--ranks 8,64] [--tokens-per-rank N] [--grad-bytes 4] "
                           "[--activation-bytes 2] SPEC...\n");
      return 2;
    } else {
      specs.push_back(a);
    }
  }
  if (specs.empty()) {
    specs = {MONE_SOURCE_DIR "/configs/models/mone_925m.textproto", MONE_SOURCE_DIR "/configs/models/mone_2p81b.textproto"};
  }

  std::printf("Per rank per training step: N = %lld tokens, gradients all-reduced in %d-byte elements (ring), "
              "token vectors sent in %d-byte elements; GiB = 2^30 bytes\n\n",
              static_cast<long long>(tokens), grad_bytes, act_bytes);
  std::printf("| model | params | R | EP | replicas | data parallel only | dense all-reduce | expert all-reduce | "
              "all-to-all | expert parallel total |\n|---|---|---|---|---|---|---|---|---|---|\n");
  for (const std::string& path : specs) {
    auto spec = mone::models::load_model_spec(path);
    if (!spec.ok()) {
      std::fprintf(stderr, "mone_comm_volume: %s\n", std::string(spec.status().message()).c_str());
      return 1;
    }
    const mone::models::ParamBreakdown p = mone::models::count_params(*spec);
    ModelCommShape shape;
    shape.expert_params = p.routed_experts;
    shape.dense_params = p.total() - p.routed_experts;
    shape.expert_layers = spec->num_hidden_layers();
    shape.hidden = spec->hidden_size();
    shape.experts = spec->num_experts();
    shape.experts_per_token = spec->num_experts_per_tok();
    for (int r : ranks) {
      auto v = mone::dist::communication_volume(shape, r, tokens, grad_bytes, act_bytes);
      if (!v.ok()) {
        std::fprintf(stderr, "mone_comm_volume: %s: %s\n", path.c_str(), std::string(v.status().message()).c_str());
        return 1;
      }
      std::printf("| %s | %s | %d | %d | %d | %.2f GiB | %.2f GiB | %.2f GiB | %.2f GiB | %.2f GiB |\n",
                  spec->name().c_str(), mone::models::format_param_count(p.total()).c_str(), r, v->expert_parallel,
                  v->expert_replicas, gib(v->data_parallel_only), gib(v->dense_all_reduce),
                  gib(v->expert_all_reduce), gib(v->all_to_all), gib(v->expert_parallel_total()));
    }
  }
  return 0;
}
