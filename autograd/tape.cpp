#include "autograd/tape.h"

#include <unordered_map>

#include "absl/strings/str_join.h"
#include "ops/elementwise.h"

namespace mone::autograd {

namespace {
thread_local Tape tls_tape;
thread_local bool tls_grad_enabled = true;

std::string shapes_of(const std::vector<Variable>& vs) {
  std::vector<std::string> parts;
  for (const auto& v : vs) parts.push_back(v.defined() ? v.value().describe() : "none");
  return absl::StrJoin(parts, ", ");
}
}  // namespace

Tape& current_tape() { return tls_tape; }
bool grad_enabled() { return tls_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(tls_grad_enabled) { tls_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { tls_grad_enabled = previous_; }

Status backward(const Variable& loss, const Tensor& seed, const GradReadyHook& on_ready) {
  return tls_tape.backward(loss, seed, on_ready);
}

bool Tape::should_record(const std::vector<Variable>& inputs) {
  if (!tls_grad_enabled) return false;
  for (const auto& v : inputs) {
    if (v.defined() && v.requires_grad()) return true;
  }
  return false;
}

void Tape::record(std::string op, std::vector<Variable> inputs, std::vector<Variable> outputs, NamedTensors saved,
                  BackwardFn backward) {
  if (!should_record(inputs)) return;
  for (auto& v : outputs) {
    v.impl()->requires_grad = true;
    v.impl()->is_leaf = false;
  }
  TapeEntry entry{std::move(op), std::move(inputs), std::move(outputs), {}, std::move(backward)};
  for (auto& [name, t] : saved) {
    const uint64_t version = t.defined() ? t.version() : 0;
    entry.saved.push_back({name, std::move(t), version});
  }
  entries_.push_back(std::move(entry));
}

Status accumulate_grad(Variable& v, const Tensor& g) {
  VariableImpl& impl = *v.impl();
  if (!impl.grad.defined()) {  // the first contribution, kept as it is (never written: it may be shared)
    v.set_grad(g);
    return absl::OkStatus();
  }
  if (impl.grad_owned) return ops::add_into(impl.grad, g);
  MONE_ASSIGN_OR_RETURN(Tensor sum, ops::add(impl.grad, g));
  impl.grad = std::move(sum);
  impl.grad_owned = true;
  return absl::OkStatus();
}

Status Tape::run_entry(TapeEntry& entry) {
  TensorList grad_outputs;
  bool any = false;
  for (const auto& out : entry.outputs) {
    grad_outputs.push_back(out.grad());
    any = any || out.has_grad();
  }
  if (!any) return absl::OkStatus();  // nothing downstream of this op reached the loss

  for (const SavedTensor& s : entry.saved) {
    if (s.tensor.defined() && s.tensor.version() != s.version) {
      return absl::FailedPreconditionError(absl::StrCat(
          "backward of ", entry.op, ": saved tensor ", s.name, " (", s.tensor.describe(),
          ") was modified in place after the forward saved it (version ", s.version, ", now ",
          s.tensor.version(), "); compute on a copy instead"));
    }
  }

  MONE_ASSIGN_OR_RETURN(TensorList grads, entry.backward(grad_outputs));
  if (grads.size() != entry.inputs.size()) {
    return absl::InternalError(absl::StrCat("backward of ", entry.op, " returned ", grads.size(),
                                            " gradients for ", entry.inputs.size(), " inputs"));
  }
  for (size_t i = 0; i < grads.size(); ++i) {
    Variable& in = entry.inputs[i];
    if (!grads[i].defined() || !in.defined() || !in.requires_grad()) continue;
    const Tensor& g = grads[i];
    const Tensor& x = in.value();
    if (g.shape() != x.shape() || g.dtype() != x.dtype() || g.device() != x.device()) {
      return absl::InternalError(absl::StrCat("backward of ", entry.op, ": gradient for input ", i, " is ",
                                              g.describe(), ", expected ", x.describe()));
    }
    MONE_RETURN_IF_ERROR(accumulate_grad(in, g));
  }
  // Free the outputs' gradients once used, unless someone asked to keep them.
  for (auto& out : entry.outputs) {
    if (!out.is_leaf() && !out.retains_grad()) out.zero_grad();
  }
  return absl::OkStatus();
}

std::vector<std::vector<Variable>> Tape::leaves_ready_after(int64_t last) const {
  std::unordered_map<const VariableImpl*, int64_t> earliest;
  std::vector<std::vector<Variable>> ready(static_cast<size_t>(last + 1));
  for (int64_t i = last; i >= 0; --i) {
    for (const Variable& in : entries_[i].inputs) {
      if (in.defined() && in.is_leaf() && in.requires_grad()) earliest[in.impl()] = i;
    }
  }
  for (int64_t i = 0; i <= last; ++i) {
    for (const Variable& in : entries_[i].inputs) {
      auto it = in.defined() ? earliest.find(in.impl()) : earliest.end();
      if (it == earliest.end() || it->second != i) continue;
      ready[i].push_back(in);
      earliest.erase(it);  // once, however often entry i takes it
    }
  }
  return ready;
}

Status Tape::backward(const Variable& loss, const Tensor& seed, const GradReadyHook& on_ready) {
  if (!loss.defined()) return absl::InvalidArgumentError("backward: the loss variable is undefined");
  int64_t last = -1;
  for (int64_t i = static_cast<int64_t>(entries_.size()) - 1; i >= 0 && last < 0; --i) {
    for (const auto& out : entries_[i].outputs) {
      if (out.is_same(loss)) last = i;
    }
  }
  if (last < 0) {
    return absl::FailedPreconditionError(
        "backward: the loss was not produced by an op on this tape (the tape is cleared by each backward, "
        "so a second backward through the same graph is refused; run the forward again)");
  }
  Tensor seed_grad = seed;
  if (!seed_grad.defined()) {
    if (loss.value().numel() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("backward: loss is ", loss.value().describe(), "; pass a seed gradient for a non-scalar"));
    }
    seed_grad = Tensor::full(loss.shape(), 1.0, loss.dtype());
    if (!loss.device().is_cpu()) {
      MONE_ASSIGN_OR_RETURN(seed_grad, seed_grad.to(loss.device()));
    }
  } else if (seed_grad.shape() != loss.shape() || seed_grad.dtype() != loss.dtype()) {
    return absl::InvalidArgumentError(
        absl::StrCat("backward: seed is ", seed_grad.describe(), ", loss is ", loss.value().describe()));
  }
  Variable root = loss;
  root.set_grad(seed_grad);

  std::vector<std::vector<Variable>> ready;
  if (on_ready) ready = leaves_ready_after(last);
  Status status = absl::OkStatus();
  for (int64_t i = last; i >= 0 && status.ok(); --i) {
    status = run_entry(entries_[i]);
    for (size_t j = 0; on_ready && j < ready[i].size() && status.ok(); ++j) status = on_ready(ready[i][j]);
  }
  // Intermediates that were never consumed (e.g. the loss itself) drop their grads too.
  for (auto& entry : entries_) {
    for (auto& out : entry.outputs) {
      if (!out.is_leaf() && !out.retains_grad()) out.zero_grad();
    }
  }
  entries_.clear();
  return status;
}

std::string Tape::to_string() const {
  std::string out;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const auto& e = entries_[i];
    absl::StrAppend(&out, i, ": ", e.op, "(", shapes_of(e.inputs), ") -> ", shapes_of(e.outputs), "\n");
  }
  return out;
}

}  // namespace mone::autograd
