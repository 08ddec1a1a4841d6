// The checks every study makes before it starts.
#include "engine/experiments/report.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "engine/core/error.h"

namespace rp {

void check_study_setup(const StudySetup& s, const std::string& what) {
  RP_CHECK(s.ctx != nullptr && s.data != nullptr, what, "no context or data");
  RP_CHECK(!s.models.empty(), what, "needs at least one model");
  RP_CHECK(!s.out_dir.empty(), what, "needs an output directory");
  RP_CHECK(s.scale >= 1 && s.scale <= 16, what,
           "figure scale must be in [1, 16], found " << s.scale);
  RP_CHECK(s.dpi >= 36 && s.dpi <= 1200, what, "--dpi must be in [36, 1200], found " << s.dpi);
  RP_CHECK(s.class_names.size() == s.data->classes.size(), what,
           s.class_names.size() << " class names for " << s.data->classes.size() << " classes");
  std::set<std::string> roles;
  for (const ModelUnderStudy& m : s.models) {
    RP_CHECK(m.net != nullptr, what, "model '" << m.role << "' is missing");
    // Roles name rows, manifest keys and image files: distinct, plain, and not a file prefix
    // the studies use themselves.
    const bool plain = !m.role.empty() && std::all_of(m.role.begin(), m.role.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
    RP_CHECK(plain && roles.insert(m.role).second, what,
             "model roles must be distinct names of letters, digits, '_' and '-', found '" << m.role
                                                                                           << "'");
    for (const char* reserved : {"seed", "target", "blend", "original"}) {
      RP_CHECK(m.role != reserved, what, "'" << m.role << "' is reserved, not a model role");
    }
    const NetworkSpec& spec = m.net->spec();
    RP_CHECK(spec.num_classes == static_cast<std::int64_t>(s.data->classes.size()), what,
             "the " << m.role << " model (" << m.checkpoint << ") has " << spec.num_classes
                    << " classes but the data (" << s.data->name << ") has "
                    << s.data->classes.size());
    RP_CHECK(spec.channels == s.data->channels && spec.image_h == s.data->height &&
                 spec.image_w == s.data->width,
             what,
             "the " << m.role << " model (" << m.checkpoint << ") takes " << spec.channels << "x"
                    << spec.image_h << "x" << spec.image_w << " images but the data has "
                    << s.data->channels << "x" << s.data->height << "x" << s.data->width);
  }
}

void check_batch(std::int64_t n, const std::string& what) {
  RP_CHECK(n >= 1 && n <= kMaxStudyBatch, what,
           "solves " << n << " images as one batch; the most is " << kMaxStudyBatch
                     << " (choose fewer images, pairs, frames or coordinates)");
}

void check_optimization(const AttackParams& p, const std::string& what) {
  validate(p);
  RP_CHECK(p.steps >= 1, what, "--iterations must be >= 1, found " << p.steps);
}

void check_indices(const StudySetup& s, const std::vector<std::int64_t>& idx,
                   const std::string& what, const std::string& flag) {
  RP_CHECK(!idx.empty(), what, flag << ": no images chosen");
  for (std::int64_t i : idx) {
    RP_CHECK(i >= 0 && i < s.data->size(), what,
             flag << ": image " << i << " is outside the " << s.split << " split's "
                  << s.data->size() << " images");
  }
}

void check_coordinates_fit(const StudySetup& s, const std::vector<std::int32_t>& k,
                           const std::string& what) {
  for (const ModelUnderStudy& m : s.models) {
    const std::int64_t f = m.net->representation_size();
    for (std::int32_t c : k) {
      RP_CHECK(c >= 0 && c < f, what,
               "coordinate " << c << " is outside the " << m.role << " model's R(x), which has "
                             << f << " coordinates (0 to " << f - 1 << ")");
    }
  }
}

}  // namespace rp
