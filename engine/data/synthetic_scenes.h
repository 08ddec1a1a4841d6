// Scenes of several weak class cues: the synthetic dataset's "scenes" kind (synthetic.h).
//
// Each image is a landscape: a sky over a ground (a tilted, slightly wavy horizon, faint stripes
// on the ground) and one object (disk, ring, square, bar or cross) at a random place, size and
// angle. A class has five cues: its sky colour, its ground colour, its horizon height (a
// quarter of the way down for class 0, then 5% lower per class), its object's shape (class
// % 5) and its object's colour. Each cue of each image follows its class only with probability
// cue_probability (else it is drawn at random) and colours are jittered by N(0, 0.2^2) per
// channel. So no single cue tells the class, and a model must weigh them all - as a CIFAR-10
// model weighs sky, ground and an object's outline - which is what makes the robust prior
// visible here: a robust model's inversions redraw the target's sky, ground and horizon, a
// standard model's only a high-frequency colour texture (bench/RESULTS.md).
#pragma once

#include <string>
#include <vector>

#include "engine/data/synthetic_paint.h"

namespace rp::synthetic {

struct CueScene {
  Rgb sky, ground, object;
  double horizon = 0, tilt = 0;  // the horizon's height (pixels) at the centre, and its slope
  int shape = 0;                 // disk, ring, square, bar, cross
  double cx = 0, cy = 0, radius = 0, cos_t = 1, sin_t = 0;
  double stripe_period = 1, stripe_amplitude = 0;  // the ground's stripes
};

// One image's scene of class cls (0-9) at size x size pixels.
CueScene draw_cue_scene(int cls, double size, double cue_probability, Draws& d);
// The scene's colour at pixel centre (x, y), before noise (components may leave [0, 1]).
Rgb cue_scene_colour(const CueScene& s, double x, double y, double size);
// "disk, red sky", ...: each class's shape and sky.
const std::vector<std::string>& cue_scene_classes();

}  // namespace rp::synthetic
