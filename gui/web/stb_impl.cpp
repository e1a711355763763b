// stb_image_write's code for the screenshot (gui/capture.cpp): the desktop links Debian's libstb,
// which has no WebAssembly build, so the browser build compiles the header's implementation here.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
