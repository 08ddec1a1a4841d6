// How the experiment commands tell the user what they wrote and what it shows.
#pragma once

#include "engine/experiments/report.h"

namespace rp::cli {

// "invert: out/invert/invert.png (manifest invert.json), 12.3 s" and one line of mean metrics
// per model, on stdout.
void print_report(const StudyReport& r);

}  // namespace rp::cli
