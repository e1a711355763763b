#include "capture.hpp"

#include <GL/gl.h>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <stb_image_write.h>
#include <vector>

namespace attnlab::gui {

std::string capture_png(const std::string& path, int width, int height) {
  if (width <= 0 || height <= 0) return "nothing to capture (window has no size)";
  std::vector<unsigned char> px(static_cast<size_t>(width) * height * 3);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
#ifdef __EMSCRIPTEN__
  // WebGL promises only RGBA bytes for readPixels: read those, keep RGB.
  std::vector<unsigned char> rgba(static_cast<size_t>(width) * height * 4);
  glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, rgba.data());
  for (size_t i = 0, n = static_cast<size_t>(width) * height; i < n; ++i)
    for (size_t c = 0; c < 3; ++c) px[i * 3 + c] = rgba[i * 4 + c];
#else
  glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE, px.data());
#endif
  // OpenGL rows run bottom-up; PNG rows top-down.
  stbi_flip_vertically_on_write(1);
  // No PNG row filter: a dashboard is flat colour and text, which stb's deflate packs best
  // unfiltered (1600x900 chapter 3: 348 KB against 411 KB with stb's per-row filter choice, 15-17%
  // smaller on chapters 1, 7 and 11 too), so the README's image stays under 400 KB.
  stbi_write_force_png_filter = 0;
  stbi_write_png_compression_level = 9;
  errno = 0;
  if (!stbi_write_png(path.c_str(), width, height, 3, px.data(), width * 3))
    return "cannot write " + path + (errno ? std::string(": ") + std::strerror(errno) : std::string());
  return "";
}

std::string capture_default_name(const std::string& chapter_stem) {
  const std::time_t t = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&t));
  return "attnlab-" + (chapter_stem.empty() ? std::string("dashboard") : chapter_stem) + "-" + stamp + ".png";
}

}  // namespace attnlab::gui
