// The learning-rate schedule: linear warmup from 0 to lr over warmup_steps, then cosine decay
// to min_lr_ratio·lr at the last step.
//   step < W:   lr · (step + 1) / W
//   otherwise:  lr · (r + (1 - r) · ½(1 + cos(π · (step - W) / max(1, S - W - 1))))
// with S total steps, W warmup steps, r = min_lr_ratio; steps count from 0.
#pragma once

#include <cstdint>

namespace mone::train {

struct LrSchedule {
  double lr = 3e-3;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;
  double min_lr_ratio = 0.1;

  double at(int64_t step) const;
};

}  // namespace mone::train
