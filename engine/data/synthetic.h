// The built-in synthetic dataset: 10 classes of RGB images a person tells apart at a glance,
// generated from a seed, so the whole pipeline - and a robust model's visible features - can
// be shown without downloading anything. It comes in two kinds.
//
// objects: one strong cue per class, a shape or a texture:
//   shapes    disk, ring, square, triangle, cross: one shape at a random position, size and
//             (for square, triangle, cross) rotation
//   textures  hstripes, vstripes, diagonal, checker, dots: a random patch (60-100% of each
//             side) of a pattern with random period and phase
// Colours come in two schemes:
//   random    every image draws its own foreground and background (with a minimum luminance
//             contrast), so only the shape or pattern tells the classes apart
//   class     every class has its own pair of colours (background hues spread round the
//             colour wheel, light and dark by turns; the foreground opposite), jittered by
//             +-0.06 per image: the classes are also told apart by colour, as many of
//             CIFAR-10's are (sky, grass, road)
// The background is a gentle gradient.
//
// scenes: landscapes of sky, ground, horizon and one object, each class told by several weak
// cues, every one of which follows the class only with probability cue_probability
// (synthetic_scenes.h). Models trained on them behave more like CIFAR-10's: a robust model's
// inversions come clearly closer to their targets than a standard model's.
//
// Both kinds add uniform pixel noise of +-4/255.
//
// Each class also carries a faint fixed pattern - +-pattern_amplitude per pixel, a random sign
// per class, pixel and channel - that no person sees but a network readily uses: the
// non-robust feature of the paper's argument (Ilyas et al., "Adversarial examples are not
// bugs, they are features", 2019). A standard model leans on it and falls to small
// perturbations; a robust model cannot, and learns the shapes a person sees.
//
// Example i has class i % 10; every draw comes from Philox (stream Synthetic/split, offset by
// example), so example i is the same whatever the split's size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/data/dataset.h"

namespace rp {

struct SyntheticOptions {
  std::int64_t train = 5000;
  std::int64_t test = 1000;
  std::int64_t size = 32;  // images are size x size
  std::uint64_t seed = 0;
  double pattern_amplitude = 4.0 / 255;  // 0: no non-robust feature
  std::string kind = "objects";          // objects or scenes (see above)
  std::string colours = "random";        // objects: random or class (see above)
  double cue_probability = 0.7;          // scenes: how often each cue follows the class
};

// "random or class" and "objects or scenes": the colour schemes and kinds, for messages.
extern const char* const kSyntheticColours;
extern const char* const kSyntheticKinds;
bool is_synthetic_colours(const std::string& scheme);
bool is_synthetic_kind(const std::string& kind);

// The objects' class names (disk, ring, ...); the scenes name theirs by shape and sky.
const std::vector<std::string>& synthetic_classes();
DatasetSplits make_synthetic(const SyntheticOptions& opt);

}  // namespace rp
