// The host side the two Hopper rungs' programs share: see hopper-program.hpp.
#include "hopper-program.hpp"

#include <cmath>
#include <fmt/format.h>
#include <string>

namespace attnlab::kernels {

DeviceQkvo upload_qkvo(const AttnShape& s, const HostInputs& in) {
  DeviceQkvo b;
  b.q = DeviceBuffer(in.q.size() * 2);
  b.k = DeviceBuffer(in.k.size() * 2);
  b.v = DeviceBuffer(in.v.size() * 2);
  b.o = DeviceBuffer(q_elems(s) * 2);
  ATTN_CUDA(cudaMemcpy(b.q.get(), in.q.data(), b.q.bytes(), cudaMemcpyHostToDevice));
  ATTN_CUDA(cudaMemcpy(b.k.get(), in.k.data(), b.k.bytes(), cudaMemcpyHostToDevice));
  ATTN_CUDA(cudaMemcpy(b.v.get(), in.v.data(), b.v.bytes(), cudaMemcpyHostToDevice));
  return b;
}

AttnProblem problem_of(const AttnShape& s, DeviceQkvo& b) {
  AttnProblem p;
  p.shape = s;
  p.q = b.q.get(), p.k = b.k.get(), p.v = b.v.get(), p.o = b.o.get();
  p.scale = float(1.0 / std::sqrt(double(s.head_dim)));
  return p;
}

std::optional<int> skip_without_hopper(const Program& prog) {
  const DeviceFacts& dev = prog.dev;
  const std::string why = kernel_unsupported(
      KernelId::hopper, attn_shape(1, 1, 1, 128, 128, 128, false, ElemType::bf16), device_caps(dev));
  if (why.empty()) return std::nullopt;
  return prog.skip(fmt::format("{} (this GPU: {}, compute capability {}.{})", why, dev.name, dev.cc_major, dev.cc_minor));
}

std::vector<AttnShape> hopper_check_shapes(std::vector<AttnShape> first, const std::vector<AttnShape>& extra,
                                           bool quick) {
  const ElemType bf = ElemType::bf16;
  std::vector<AttnShape> cases = std::move(first);
  for (const AttnShape& s : {
           attn_shape(2, 4, 1, 1000, 1000, 128, true, bf),   // ragged, causal, MQA (group 4)
           attn_shape(1, 8, 2, 777, 777, 64, false, bf),     // ragged, GQA 4, d 64
           attn_shape(1, 2, 2, 37, 37, 128, false, bf),      // shorter than one tile
           attn_shape(1, 2, 2, 300, 1000, 128, false, bf),   // seq_q != seq_kv
           attn_shape(1, 2, 1, 300, 1000, 64, true, bf),     // bottom-right causal, group 2
       })
    cases.push_back(s);
  cases.insert(cases.end(), extra.begin(), extra.end());
  if (!quick) {
    cases.push_back(attn_shape(2, 4, 4, 2048, 2048, 128, false, bf));  // many stage wrap-arounds
    cases.push_back(attn_shape(2, 4, 2, 2048, 2048, 64, true, bf));
    cases.push_back(attn_shape(1, 4, 4, 4095, 4095, 128, true, bf));
  }
  return cases;
}

std::vector<AttnShape> hopper_key_shapes() {
  std::vector<AttnShape> timed;
  for (int d : {128, 64})
    for (bool c : {false, true}) timed.push_back(attn_shape(8, 16, 16, 4096, 4096, d, c, ElemType::bf16));
  timed.push_back(attn_shape(8, 16, 4, 4096, 4096, 128, false, ElemType::bf16));  // GQA 4
  return timed;
}

}  // namespace attnlab::kernels
