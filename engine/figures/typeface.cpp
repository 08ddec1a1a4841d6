#include "engine/figures/typeface.h"

#include <cairo-ft.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <ft2build.h>
#include FT_FREETYPE_H

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "engine/core/error.h"

namespace rp {
namespace {

constexpr const char* kKnownDir = "/usr/share/fonts/truetype/dejavu";

const char* file_name(Weight w) {
  return w == Weight::Bold ? "DejaVuSans-Bold.ttf" : "DejaVuSans.ttf";
}

// Through fontconfig: accepted only when it resolves to DejaVu Sans itself (fontconfig falls
// back to any font it has, which would change every figure's layout). A configuration of its
// own, destroyed after the lookup: fontconfig's global one (FcInit) is never freed.
std::string from_fontconfig(Weight w) {
  FcConfig* config = FcInitLoadConfigAndFonts();
  if (config == nullptr) return "";
  FcPattern* pattern = FcPatternCreate();
  FcPatternAddString(pattern, FC_FAMILY, reinterpret_cast<const FcChar8*>(kFontFamily));
  FcPatternAddInteger(pattern, FC_WEIGHT, w == Weight::Bold ? FC_WEIGHT_BOLD : FC_WEIGHT_REGULAR);
  FcPatternAddInteger(pattern, FC_SLANT, FC_SLANT_ROMAN);
  FcConfigSubstitute(config, pattern, FcMatchPattern);
  FcDefaultSubstitute(pattern);
  FcResult result = FcResultNoMatch;
  FcPattern* match = FcFontMatch(config, pattern, &result);
  std::string file;
  if (match != nullptr) {
    FcChar8* path = nullptr;
    FcChar8* family = nullptr;
    if (FcPatternGetString(match, FC_FILE, 0, &path) == FcResultMatch &&
        FcPatternGetString(match, FC_FAMILY, 0, &family) == FcResultMatch &&
        std::string(reinterpret_cast<const char*>(family)) == kFontFamily &&
        std::filesystem::path(reinterpret_cast<const char*>(path)).filename() == file_name(w)) {
      file = reinterpret_cast<const char*>(path);
    }
    FcPatternDestroy(match);
  }
  FcPatternDestroy(pattern);
  FcConfigDestroy(config);
  return file;
}

std::string find_font(Weight w) {
  const char* dir = std::getenv("ROBUSTPRIOR_FONT_DIR");
  if (dir != nullptr && *dir != '\0') {
    const std::string path = std::string(dir) + "/" + file_name(w);
    RP_CHECK(std::filesystem::is_regular_file(path), "figures",
             "ROBUSTPRIOR_FONT_DIR is '" << dir << "' but " << path << " is not a file");
    return path;
  }
  std::string path = from_fontconfig(w);
  if (path.empty()) path = std::string(kKnownDir) + "/" + file_name(w);
  RP_CHECK(std::filesystem::is_regular_file(path), "figures",
           "figures are set in " << kFontFamily << ", which was found neither through fontconfig "
                                 << "nor at " << path
                                 << ": install it (apt-get install fonts-dejavu-core) or point "
                                    "ROBUSTPRIOR_FONT_DIR at a folder holding "
                                 << file_name(w));
  return path;
}

struct Faces {
  std::string files[2];
  FT_Library library = nullptr;
  FT_Face ft[2] = {nullptr, nullptr};
  cairo_font_face_t* cairo[2] = {nullptr, nullptr};
  cairo_surface_t* surface = nullptr;  // for measuring
  cairo_t* cr = nullptr;
  std::mutex mutex;  // cr is one context: measurements are serialized

  Faces() {
    // The files first: a refusal then leaves nothing allocated behind it.
    files[0] = find_font(Weight::Regular);
    files[1] = find_font(Weight::Bold);
    try {
      load();
    } catch (...) {
      release();
      throw;
    }
  }

  void load() {
    RP_CHECK(FT_Init_FreeType(&library) == 0, "figures", "FreeType could not start");
    for (int i = 0; i < 2; ++i) {
      RP_CHECK(FT_New_Face(library, files[i].c_str(), 0, &ft[i]) == 0, "figures",
               "FreeType cannot read the font " << files[i]);
      cairo[i] = cairo_ft_font_face_create_for_ft_face(ft[i], 0);
      RP_CHECK(cairo_font_face_status(cairo[i]) == CAIRO_STATUS_SUCCESS, "figures",
               "cairo cannot use the font " << files[i]);
    }
    surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
    cr = cairo_create(surface);
    cairo_font_options_t* options = cairo_font_options_create();
    cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
    cairo_set_font_options(cr, options);
    cairo_font_options_destroy(options);
    RP_CHECK(cairo_status(cr) == CAIRO_STATUS_SUCCESS, "figures", "cairo could not start");
  }

  // Only when loading failed: the faces of a loaded Faces live as long as the process.
  void release() {
    if (cr != nullptr) cairo_destroy(cr);
    if (surface != nullptr) cairo_surface_destroy(surface);
    for (int i = 0; i < 2; ++i) {
      if (cairo[i] != nullptr) cairo_font_face_destroy(cairo[i]);
      if (ft[i] != nullptr) FT_Done_Face(ft[i]);
    }
    if (library != nullptr) FT_Done_FreeType(library);
  }
};

Faces& faces() {
  static Faces* f = new Faces();  // never destroyed: surfaces may outlive static destructors
  return *f;
}

int index(Weight w) {
  return w == Weight::Bold ? 1 : 0;
}

}  // namespace

const std::string& font_file(Weight weight) {
  return faces().files[index(weight)];
}

cairo_font_face_t* font_face(Weight weight) {
  return faces().cairo[index(weight)];
}

double text_width(const std::string& text, double size, Weight weight) {
  Faces& f = faces();
  const std::lock_guard<std::mutex> lock(f.mutex);
  cairo_set_font_face(f.cr, f.cairo[index(weight)]);
  cairo_set_font_size(f.cr, size);
  cairo_text_extents_t e;
  cairo_text_extents(f.cr, text.c_str(), &e);
  return e.x_advance;
}

double text_ascent(double size) {
  Faces& f = faces();
  const std::lock_guard<std::mutex> lock(f.mutex);
  cairo_set_font_face(f.cr, f.cairo[0]);
  cairo_set_font_size(f.cr, size);
  cairo_font_extents_t e;
  cairo_font_extents(f.cr, &e);
  return e.ascent;
}

}  // namespace rp
