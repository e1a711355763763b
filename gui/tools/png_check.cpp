// png_check FILE WIDTH HEIGHT [size-only]: the screenshot tests' judge. Passes when FILE is a PNG of exactly
// WIDTH x HEIGHT pixels that is not blank: a rendered dashboard has text, plots and panels, so
// many distinct colours and no single colour covering (nearly) everything. A black frame (GL
// context that drew nothing), a cleared background only, or a wrong size fails.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stb_image.h>

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: png_check FILE WIDTH HEIGHT [size-only]\n");
    return 2;
  }
  const bool size_only = argc == 5;  // a tiny window's note covers too little to judge blankness
  const int want_w = std::atoi(argv[2]), want_h = std::atoi(argv[3]);
  int w = 0, h = 0, channels = 0;
  unsigned char* px = stbi_load(argv[1], &w, &h, &channels, 3);
  if (!px) {
    std::fprintf(stderr, "png_check: cannot read %s: %s\n", argv[1], stbi_failure_reason());
    return 1;
  }
  int rc = 0;
  if (w != want_w || h != want_h) {
    std::fprintf(stderr, "png_check: %s is %dx%d, expected %dx%d\n", argv[1], w, h, want_w, want_h);
    rc = 1;
  }
  std::map<unsigned, long> counts;
  const long n = static_cast<long>(w) * h;
  for (long i = 0; i < n; ++i) {
    const unsigned char* p = px + 3 * i;
    ++counts[(unsigned{p[0]} << 16) | (unsigned{p[1]} << 8) | p[2]];
  }
  stbi_image_free(px);
  long top = 0;
  for (const auto& [c, k] : counts) top = k > top ? k : top;
  const double top_share = n ? static_cast<double>(top) / n : 1.0;
  // Text anti-aliasing alone gives dozens of shades; a blank frame has one or two colours.
  if (!size_only && (counts.size() < 16 || top_share > 0.97)) {
    std::fprintf(stderr, "png_check: %s looks blank: %zu colours, the commonest covers %.1f%%\n", argv[1],
                 counts.size(), 100 * top_share);
    rc = 1;
  }
  std::printf("%s: %dx%d, %zu colours, commonest %.1f%%\n", argv[1], w, h, counts.size(), 100 * top_share);
  return rc;
}
