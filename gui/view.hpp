// The dashboard's one view object: the core objects it shows (GPU preset, lessons, measurement
// files) and a plain settings struct with every knob a learner can turn, defaults in place. Panels
// read and change the settings; anything a panel derives from them (simulator results, event
// traces) sits in a per-panel cache that the panel owns (View::cache<T>()), recomputed only when
// the settings it was made from change. Nothing here counts bytes: the core library does.
#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hw/dtype.hpp"
#include "hw/gpu.hpp"
#include "lessons/lesson.hpp"
#include "lessons/markdown.hpp"
#include "measure/measurement.hpp"
#include "measure/ring_measured.hpp"
#include "models/ring.hpp"
#include "models/scaling.hpp"
#include "sim/config.hpp"

namespace attnlab::gui {

// Every knob, with the value a first-time learner sees. Grouped by panel.
struct Settings {
  // Whole app
  std::string gpu{default_gpu_name()};
  DType dtype = DType::fp16;
  bool present = false;   // presenter mode: full screen, large font, lesson + panel only
  bool autoplay = false;  // animations run by themselves
  float font_px = 19.0f;          // desk body font
  float present_font_px = 30.0f;  // presenter body font at 1080 pixels of height (see body_font_px)

  // growth: cost of each attention family vs N (window and d start at `attnlab steps`' defaults)
  u64 growth_n = 32768;   // the marked length
  u64 growth_window = ScalingConfig{}.window;
  u64 growth_d = ScalingConfig{}.head_dim;

  // tiling: the animated FlashAttention walk
  u64 tiling_n = 1024;
  u64 tiling_d = 64;
  u64 tiling_sram_kib = 0;  // 0 = the GPU preset's SRAM per block
  u64 tiling_br = 0;        // 0 = the algorithm's default
  u64 tiling_bc = 0;
  bool tiling_causal = false;
  bool tiling_flash1 = false;  // false: FlashAttention-2 order
  bool tiling_gpu_order = false;  // true: blocks of a wave interleaved, as the hierarchy model runs them
  float tiling_speed = 1.0f;      // animation speed (1 = the whole walk in 12 s)

  // traffic: bytes vs N for naive / flash1 / flash2
  u64 traffic_heads = 16;
  u64 traffic_batch = 1;
  u64 traffic_d = 128;
  bool traffic_causal = false;
  bool traffic_dram = true;  // plot DRAM (after L2) besides HBM (global) traffic

  // hierarchy: the layer placed on the roofline (shares d, heads, causal with traffic)
  u64 roofline_n = 4096;

  // kv: KV cache per model
  std::string kv_model = "llama-2-7b";
  u64 kv_seq = 4096;
  u64 kv_batch = 8;

  // masks
  int mask_kind = 0;  // index into the masks panel's pattern list
  u64 mask_n = 32;
  u64 mask_window = 8;
  u64 mask_stride = 4;
  u64 mask_globals = 2;
  u64 mask_every_k = 3;
  u64 mask_layer = 0;
  bool mask_causal = true;

  // ssm (Mamba's n and D = 2 x 768, as `attnlab steps`)
  u64 ssm_state = ScalingConfig{}.state;
  u64 ssm_channels = ScalingConfig{}.channels;

  // specdec
  float spec_alpha = 0.8f;
  u64 spec_gamma = 5;
  float spec_c = 0.05f;

  // paged: contiguous reservations vs PagedAttention blocks, one request stream through both
  int paged_policy = 0;         // contiguous reservation: 0 max, 1 pow2, 2 oracle
  int paged_workload = 0;       // index into workload_presets() (ShareGPT, Alpaca)
  u64 paged_budget = 8192;      // KV token slots in memory
  u64 paged_block = 16;         // tokens per block (vLLM's default)
  u64 paged_samples = 1;        // parallel samples per request (share the prompt's blocks)
  float paged_steps_per_s = 40; // animation speed

  // ring
  u64 ring_devices = 8;
  u64 ring_seq = 262144;
  u64 ring_kv_heads = 32;
  std::string ring_link = "nvlink4";
  bool ring_causal = false;
  RingLayout ring_layout = RingLayout::contiguous;  // which tokens each device holds
  float ring_efficiency = 1.0f;  // the paper's analysis assumes peak FLOP/s
  bool ring_measured = false;    // bring the panel's "measured" tab to the front once (--view measured)
  int ring_measured_file = 0;    // index into View::ring_measurements
  int ring_measured_series = 0;  // which (H, Hkv, causal) series the plot shows
  int ring_measured_row = -1;    // the row whose timeline is drawn (-1: the series' largest block)
  bool ring_calibrated = false;  // model inputs fitted from the file (attnlab ring --measured --calibrate)

  // position
  u64 pos_dim_pair = 0;   // which 2-D pair of the head dimension is drawn
  u64 pos_offset = 3;     // m - n
  u64 pos_head_dim = 64;
  u64 pos_alibi_heads = 8;
};

// The body font for a window `height` pixels tall. Presenter mode keeps the text the same share of
// the screen height at every resolution (30 px at 1080, 20 px at 720): the room sees the same
// picture on a 720p projector as on a 1080p one, where a fixed 30 px left a 1280x720 panel too
// little height for its figure. The desk font is fixed: a person at a desk picks the window size.
float body_font_px(const Settings& s, float height);

// A measurement file and where it came from.
struct MeasurementSet {
  std::filesystem::path file;
  bool bundled = true;  // assets/measurements (false: --measurements DIR, the user's own runs)
  Measurements data;
};

// A ring-attention measurement file (the "ring" section, src/measure/ring_measured) and where it
// came from.
struct RingMeasurementSet {
  std::filesystem::path file;
  bool bundled = true;
  RingMeasurements data;
};

// Base of the per-panel caches (each panel derives its own).
struct PanelCache {
  virtual ~PanelCache() = default;
};

class View {
 public:
  Settings settings;
  GpuSpec gpu;  // the preset named by settings.gpu (set_gpu keeps them together)

  std::filesystem::path lessons_dir;
  std::vector<Lesson> lessons;           // sorted by chapter
  std::vector<md::Document> documents;   // lessons[i] parsed (when rendered[i])
  std::vector<bool> rendered;
  // Each lesson rendered when its chapter is first shown, not all at load (AppOptions::lazy_lessons).
  bool lazy_lessons = false;
  std::vector<MeasurementSet> measurements;
  std::vector<RingMeasurementSet> ring_measurements;  // the files among them with a "ring" section
  std::vector<std::string> measurement_dirs;  // shown in the status bar

  int chapter = 0;    // index into lessons
  int panel_tab = 0;  // which of the chapter's panels is in front (several panels -> tabs)
  bool playing = false;  // animations run (Space toggles; --autoplay starts them running)
  bool show_chapters = true;  // the chapter list at the left (desk mode)
  std::string first_panel;  // --panel NAME: bring this panel to the front

  // Frame clock: real time interactively, a fixed step when rendering screenshots so that
  // `--frames K` always gives the same picture.
  double time_s = 0;
  double dt_s = 1.0 / 60;
  bool headless_capture = false;  // screenshot or benchmark: no input, fixed step

  // Loads lessons (InputError on a missing folder or a malformed lesson) and measurement files
  // (InputError on malformed or foreign JSON). Nothing is drawn before this succeeded. The parts,
  // cheapest first, for a caller that checks its own options in between: the lesson list (front
  // matter only), the measurement files, then render_lessons (every template filled in by the
  // simulator: most of the start-up time).
  void load(const std::optional<std::filesystem::path>& lessons_override,
            const std::vector<std::filesystem::path>& extra_measurement_dirs);
  void load_lessons(const std::optional<std::filesystem::path>& lessons_override);
  void load_measurements(const std::vector<std::filesystem::path>& extra_measurement_dirs);
  void render_lessons();
  void set_gpu(const std::string& name);  // InputError for an unknown preset
  void set_chapter(int index);            // clamps; resets the panel tab
  const Lesson* current_lesson() const;
  // The chapter's lesson, rendered now if it was not yet (lazy_lessons; a lesson that fails then
  // shows its error as its text).
  const md::Document* current_document();

  // The panel's private cache, made on first use.
  template <typename T>
  T& cache(const std::string& panel) {
    auto& slot = caches_[panel];
    if (!slot) slot = std::make_unique<T>();
    return static_cast<T&>(*slot);
  }
  // "bundled h100.json (NVIDIA H100 80GB HBM3, 2025-06-01) + 1 file from ./runs"
  std::string measurement_summary() const;

 private:
  std::map<std::string, std::unique_ptr<PanelCache>> caches_;
};

}  // namespace attnlab::gui
