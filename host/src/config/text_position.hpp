// Checks that configuration text is text: valid UTF-8, no NUL or stray control bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace crosscut::config {

struct TextPosition {
  int line = 1;
  int column = 1;
};

struct TextProblem {
  TextPosition position;
  std::string problem;
};

// The first byte that is not acceptable in a YAML file, with its 1-based position.
std::optional<TextProblem> find_invalid_text(std::string_view text);

}  // namespace crosscut::config
