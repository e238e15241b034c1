// Communication volume of one training step, per rank: data parallelism alone, and expert
// parallelism (EP) with data parallelism for everything else (docs/DISTRIBUTED.md). Arithmetic
// on a model's sizes; bench/comm_volume.cpp fills them from configs/models/*.textproto.
//
// Letters: R ranks, E routed experts per layer, K experts per token, d hidden size, L layers with
// experts, N tokens per rank per step, P_dense the parameters every rank holds (embeddings,
// attention, norms, routers, shared experts), P_exp the routed experts' parameters (all layers),
// b_g bytes per gradient element, b_a bytes per activation element.
//
// Ring all-reduce of n bytes over g ranks: each rank sends 2·(g−1)/g · n (reduce-scatter, then
// all-gather), the bandwidth-optimal amount.
//
// Layouts:
//   data parallel only   every rank holds every parameter:   2·(R−1)/R · (P_dense + P_exp) · b_g
//   expert parallel      EP = gcd(E, R) ranks split each layer's experts (E/EP per rank); the
//                        R/EP ranks holding the same experts are that expert's replicas.
//     dense all-reduce   over all R ranks:                   2·(R−1)/R · P_dense · b_g
//     expert all-reduce  over the R/EP replicas:             2·(R/EP−1)/(R/EP) · P_exp/EP · b_g
//     all-to-all         per layer: dispatch (token vectors to their K experts' ranks) and combine
//                        (expert outputs back), forward and backward: 4 transfers of N·K·d
//                        elements, of which (EP−1)/EP leave the rank with balanced routing:
//                                                            4 · L · N · K · d · b_a · (EP−1)/EP
// MoNE sends exactly what MoE sends: the K_N neurons are chosen inside each expert, on the rank
// that holds it, from the token vector it already received.
#pragma once

#include <cstdint>

#include "core/status.h"

namespace mone::dist {

struct ModelCommShape {
  int64_t dense_params = 0;   // P_dense
  int64_t expert_params = 0;  // P_exp
  int64_t expert_layers = 0;  // L
  int64_t hidden = 0;         // d
  int64_t experts = 0;        // E
  int64_t experts_per_token = 0;  // K
};

struct CommVolume {
  int ranks = 0;             // R
  int expert_parallel = 0;   // EP
  int expert_replicas = 0;   // R / EP
  double data_parallel_only = 0;  // bytes per rank per step
  double dense_all_reduce = 0;
  double expert_all_reduce = 0;
  double all_to_all = 0;
  double expert_parallel_total() const { return dense_all_reduce + expert_all_reduce + all_to_all; }
};

// Errors: ranks < 1, tokens_per_rank < 1, byte sizes < 1, a shape with no experts.
StatusOr<CommVolume> communication_volume(const ModelCommShape& shape, int ranks, int64_t tokens_per_rank,
                                          int grad_bytes, int activation_bytes);

}  // namespace mone::dist
