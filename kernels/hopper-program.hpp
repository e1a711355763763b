// The host side the two Hopper rungs' programs share (attn-hopper-main.cpp, bf16/fp16, and
// attn-fp8-main.cpp, e4m3 with the bf16 rung beside it): the 16-bit Q, K, V, O on the device, the
// "no sm_90a GPU" skip, and the shapes both check and time. Kept in one place so that the two
// programs check the same features and time the same configs. Plain C++ (no CUDA kernels).
#pragma once
#include <optional>
#include <vector>

#include "attn.hpp"
#include "launcher.hpp"

namespace attnlab::kernels {

// Q, K, V (16-bit, as make_inputs wrote them) copied to the device, O allocated (not cleared).
struct DeviceQkvo {
  DeviceBuffer q, k, v, o;
};
DeviceQkvo upload_qkvo(const AttnShape& s, const HostInputs& in);
// The problem on those buffers, softmax scale 1/sqrt(d).
AttnProblem problem_of(const AttnShape& s, DeviceQkvo& b);

// Exit code 77 (skipped) with the reason where this GPU cannot run the sm_90a rungs; nullopt
// where it can.
std::optional<int> skip_without_hopper(const Program& prog);

// The check shapes, in order: `first` (each rung's one-tile cases), then ragged causal MQA, ragged
// GQA 4 at d 64, shorter than one tile, seq_q != seq_kv, bottom-right causal with group 2, then
// `extra`, then, unless `quick`, three with many K/V stage wrap-arounds (N 2048, 4095).
std::vector<AttnShape> hopper_check_shapes(std::vector<AttnShape> first, const std::vector<AttnShape>& extra,
                                           bool quick);

// The timed configs both programs start with: B8 H16 N4096 bf16 at d128 and d64, each not causal
// then causal, then d128 with GQA 16/4.
std::vector<AttnShape> hopper_key_shapes();

}  // namespace attnlab::kernels
