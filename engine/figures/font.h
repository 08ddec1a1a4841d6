// A 5x7 bitmap font for labels drawn into figures: upper-case letters (lower case is drawn as
// upper case), digits and common punctuation; anything else is drawn as '?'. Each glyph is
// 5 pixels wide and 7 tall; text advances 6 pixels a character.
#pragma once

namespace rp::font {

constexpr int kGlyphWidth = 5, kGlyphHeight = 7, kAdvance = 6, kLineHeight = 9;

// Rows of the glyph for `c`, top first; bit 4 is the leftmost column.
const unsigned char* glyph(char c);

}  // namespace rp::font
