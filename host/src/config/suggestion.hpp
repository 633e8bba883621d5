// "did you mean …?" for misspelt keys, plugin names and component types.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crosscut::config {

// The candidate closest to `word` by edit distance when it is close enough to be a likely
// typo, else "". Ties go to the earlier candidate.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace crosscut::config
