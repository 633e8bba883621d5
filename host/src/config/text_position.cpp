#include "config/text_position.hpp"

#include <cstdint>
#include <cstdio>

namespace crosscut::config {

std::optional<TextProblem> find_invalid_text(std::string_view text) {
  TextPosition pos;
  std::size_t i = 0;
  bool at_line_start = true;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = 1;
    if (c == '\n') {
      ++pos.line;
      pos.column = 1;
      ++i;
      at_line_start = true;
      continue;
    }
    if (c == '\t' && at_line_start)
      return TextProblem{pos, "a tab in indentation (YAML indents with spaces only)"};
    if (c != ' ') at_line_start = false;
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\r') {
        char buf[64];
        std::snprintf(buf, sizeof buf, "control byte 0x%02x is not allowed (binary file?)", c);
        return TextProblem{pos, buf};
      }
    } else {
      std::uint32_t need = 0;
      std::uint32_t cp = 0;
      if ((c & 0xE0) == 0xC0) {
        need = 1;
        cp = c & 0x1F;
      } else if ((c & 0xF0) == 0xE0) {
        need = 2;
        cp = c & 0x0F;
      } else if ((c & 0xF8) == 0xF0) {
        need = 3;
        cp = c & 0x07;
      } else {
        return TextProblem{pos, "not valid UTF-8 text (binary file?)"};
      }
      for (std::uint32_t k = 1; k <= need; ++k) {
        if (i + k >= text.size())
          return TextProblem{pos, "not valid UTF-8 text (truncated character)"};
        auto cc = static_cast<unsigned char>(text[i + k]);
        if ((cc & 0xC0) != 0x80) return TextProblem{pos, "not valid UTF-8 text (binary file?)"};
        cp = (cp << 6) | (cc & 0x3F);
      }
      bool overlong =
          (need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000);
      if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return TextProblem{pos, "not valid UTF-8 text"};
      len = need + 1;
    }
    i += len;
    ++pos.column;
  }
  return std::nullopt;
}

}  // namespace crosscut::config
