// Shell-style wildcard matching for exception type names: `*` any run of characters, `?` one
// character, everything else literal.
#pragma once

#include <string_view>

namespace crosscut::yaml_rules {

// Linear in practice (backtracks only to the last `*`); never recursive.
bool glob_match(std::string_view pattern, std::string_view text) noexcept;

}  // namespace crosscut::yaml_rules
