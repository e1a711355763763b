#include "sim/events.hpp"

namespace attnlab {

std::string_view tensor_name(Tensor t) {
  static constexpr std::string_view names[] = {"Q",  "K",  "V",  "O",     "S", "P",     "dO",    "dQ",   "dK",
                                               "dV", "dS", "dP", "stats", "D", "dQacc", "dKexp", "dVexp",
                                               "Qscale", "Kscale", "Vscale"};
  const auto i = static_cast<size_t>(t);
  return i < kTensorCount ? names[i] : "?";
}

std::string_view event_op_name(EventOp op) {
  switch (op) {
    case EventOp::load: return "load";
    case EventOp::store: return "store";
    case EventOp::compute: return "compute";
    case EventOp::reduce: return "reduce";
  }
  return "?";
}

}  // namespace attnlab
