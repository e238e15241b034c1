// The tape: every differentiable op called through autograd appends one entry (op name, inputs,
// outputs, the tensors saved for backward, and a closure calling the op's public backward).
//
// Saved state is named, never positional: an autograd function hands record() a struct (the op's
// forward struct, or a small struct of its own) and its backward reads that struct's fields by
// name. The struct lists its tensors, with their names, in `NamedTensors tensors() const`, which
// the tape uses only for the version check below.
// backward(loss) seeds d loss = 1, walks the entries in reverse and accumulates input gradients;
// then the tape is cleared and the saved tensors are freed.
//
// Gradient-ready hook. A leaf's gradient is final once the backward has run the earliest entry
// that takes it as an input (the walk is in reverse, so that entry is the leaf's last
// contributor). backward(loss, seed, on_ready) calls on_ready(leaf) right then, once per leaf
// that requires grad and feeds an entry recorded up to the loss, while the rest of the backward is
// still to run: data parallelism starts a bucket's all-reduce there, overlapping the
// communication with the backward of the earlier layers (dist/data_parallel.h). The leaf's grad
// is undefined when no path from the loss reached it. An error from on_ready stops the backward.
//
// Safety checks, after PyTorch's engine:
//  - a saved tensor remembers its storage version; a backward that would read a tensor modified
//    in place since it was saved fails with the op name and both versions;
//  - every gradient a backward returns is checked against its input's shape, dtype and device,
//    with a message naming the op and the input index.
//
// The current tape is per thread (like a grad-mode flag), never shared across threads.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace mone::autograd {

using TensorList = std::vector<Tensor>;
using NamedTensors = std::vector<std::pair<const char*, Tensor>>;
// grads of the outputs -> grads of the inputs, one per input, in order; an undefined Tensor means
// "no gradient for this input". The closure holds the saved state (see record below).
using BackwardFn = std::function<StatusOr<TensorList>(const TensorList& grad_outputs)>;
// Called with a leaf whose gradient this backward will not change again (see above).
using GradReadyHook = std::function<Status(const Variable& leaf)>;

struct SavedTensor {
  const char* name;      // the field of the saved state
  Tensor tensor;
  uint64_t version = 0;  // the storage version when saved
};

// The saved state of an op that needs none.
struct NothingSaved {
  NamedTensors tensors() const { return {}; }
};

struct TapeEntry {
  std::string op;
  std::vector<Variable> inputs;
  std::vector<Variable> outputs;
  std::vector<SavedTensor> saved;
  BackwardFn backward;
};

class Tape {
 public:
  // Whether record() would append an entry: grad mode is on and some input requires grad.
  static bool should_record(const std::vector<Variable>& inputs);
  // Appends an entry when should_record(inputs); then marks the outputs as non-leaf variables
  // that require grad. Otherwise records nothing. `saved` names the tensors `backward` reads.
  void record(std::string op, std::vector<Variable> inputs, std::vector<Variable> outputs, NamedTensors saved,
              BackwardFn backward);
  // Backpropagates from `loss` (a one-element variable, seeded with 1, unless `seed` is given with
  // loss's shape) through every entry, then clears the tape. on_ready: the gradient-ready hook.
  Status backward(const Variable& loss, const Tensor& seed = Tensor(), const GradReadyHook& on_ready = {});
  size_t size() const { return entries_.size(); }
  const std::vector<TapeEntry>& entries() const { return entries_; }
  void clear() { entries_.clear(); }
  // One line per entry: "3: matmul(f32[4, 8], f32[8, 16]) -> f32[4, 16]".
  std::string to_string() const;

 private:
  Status run_entry(TapeEntry& entry);
  // ready[i]: the leaves (requiring grad) whose earliest use among entries [0, last] is entry i.
  std::vector<std::vector<Variable>> leaves_ready_after(int64_t last) const;
  std::vector<TapeEntry> entries_;
};

// The calling thread's tape.
Tape& current_tape();
// Records on the current tape (see Tape::record): `saved` is the op's named state (a struct with
// `NamedTensors tensors() const`), and backward(grad_outputs, saved) returns the inputs' grads.
template <typename State, typename Backward>
void record(std::string op, std::vector<Variable> inputs, std::vector<Variable> outputs, State saved,
            Backward backward) {
  if (!Tape::should_record(inputs)) return;
  NamedTensors tensors = saved.tensors();
  current_tape().record(std::move(op), std::move(inputs), std::move(outputs), std::move(tensors),
                        [saved = std::move(saved), backward = std::move(backward)](const TensorList& grads) {
                          return backward(grads, saved);
                        });
}
// backward on the current tape.
Status backward(const Variable& loss, const Tensor& seed = Tensor(), const GradReadyHook& on_ready = {});

bool grad_enabled();
// While alive, ops record nothing (evaluation, generation, optimizer updates).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// grad := grad + g. The first contribution is kept as it is; the second makes a new tensor that
// the variable owns; later ones are added into it in place. A gradient that may be shared with
// another variable is therefore never written (see VariableImpl::grad_owned).
Status accumulate_grad(Variable& v, const Tensor& g);

}  // namespace mone::autograd
