#include "logging/pii_masker.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <stdexcept>

namespace crosscut::logging {
namespace {

struct Builtin {
  std::string_view name;
  std::string_view regex;
  bool luhn;
};

// Korean mobile numbers: 010-1234-5678, 01012345678, 010.1234.5678, +82 10-1234-5678.
// Cards: 13-19 digits, optionally grouped by spaces or dashes (Luhn-checked afterwards).
constexpr Builtin kBuiltins[] = {
    {"phone_kr", R"((?:\+82[ -]?|\b0)1[016789][ .-]?\d{3,4}[ .-]?\d{4}\b)", false},
    {"email", R"([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})", false},
    {"card", R"(\b\d(?:[ -]?\d){12,18}\b)", true},
    {"bearer_token", R"((?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*)", false},
};

// ASCII only, and cheap: std::tolower goes through the locale on every call.
constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

std::unique_ptr<re2::RE2> compile(const std::string& regex, const std::string& what) {
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_max_mem(64 << 20);
  auto re = std::make_unique<re2::RE2>(regex, opts);
  if (!re->ok())
    throw std::invalid_argument(what + ": invalid regex '" + regex + "': " + re->error());
  return re;
}

}  // namespace

const std::vector<std::string_view>& builtin_pii_patterns() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> v;
    for (const auto& b : kBuiltins) v.push_back(b.name);
    return v;
  }();
  return names;
}

bool luhn_valid(std::string_view s) noexcept {
  int sum = 0;
  int n = 0;
  for (auto it = s.rbegin(); it != s.rend(); ++it) {
    if (*it < '0' || *it > '9') continue;
    int d = *it - '0';
    if (n % 2 == 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    ++n;
  }
  return n >= 13 && sum % 10 == 0;
}

PiiMasker::PiiMasker(const PiiOptions& options) : enabled_(options.enabled) {
  if (!enabled_) return;
  for (const auto& k : options.keys) keys_.push_back(lower(k));
  std::string alternation;
  auto add = [&](const std::string& name, const std::string& regex, bool luhn) {
    patterns_.push_back({name, compile(regex, "pii pattern " + name), luhn});
    if (!alternation.empty()) alternation += '|';
    alternation += "(?:" + regex + ")";
  };
  for (const auto& name : options.patterns) {
    auto it = std::find_if(std::begin(kBuiltins), std::end(kBuiltins),
                           [&](const Builtin& b) { return b.name == name; });
    if (it == std::end(kBuiltins))
      throw std::invalid_argument("unknown pii pattern '" + name +
                                  "' (built-in: phone_kr, email, card, bearer_token)");
    add(std::string(it->name), std::string(it->regex), it->luhn);
  }
  for (const auto& regex : options.custom) add("custom", regex, false);
  custom_ = !options.custom.empty();
  if (!alternation.empty()) any_ = compile(alternation, "pii patterns");
}

PiiMasker::~PiiMasker() = default;

bool PiiMasker::is_sensitive_key(std::string_view key) const noexcept {
  for (const auto& k : keys_) {
    if (k.size() != key.size()) continue;
    bool eq = true;
    for (std::size_t i = 0; i < k.size() && eq; ++i) eq = k[i] == ascii_lower(key[i]);
    if (eq) return true;
  }
  return false;
}

bool PiiMasker::mask_with(const Pattern& p, std::string& s) const {
  re2::StringPiece input(s);
  re2::StringPiece match;
  std::string out;
  std::size_t copied = 0;  // bytes of s already handled
  std::size_t pos = 0;
  bool changed = false;
  while (pos <= s.size() && p.re->Match(input, pos, s.size(), re2::RE2::UNANCHORED, &match, 1)) {
    const std::size_t begin = static_cast<std::size_t>(match.data() - s.data());
    const std::size_t end = begin + match.size();
    if (match.empty()) {  // a custom pattern that matches the empty string: step over it
      pos = end + 1;
      continue;
    }
    if (!p.luhn || luhn_valid(std::string_view(match.data(), match.size()))) {
      if (!changed) out.reserve(s.size());
      out.append(s, copied, begin - copied);
      out += "[MASKED:";
      out += p.name;
      out += ']';
      copied = end;
      changed = true;
    }
    pos = end;
  }
  if (!changed) return false;
  out.append(s, copied, std::string::npos);
  s.swap(out);
  return true;
}

bool PiiMasker::may_match(std::string_view s) const noexcept {
  if (custom_) return true;
  constexpr std::string_view bearer = "bearer";
  int digits = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      if (++digits >= 10) return true;  // phone numbers and cards have at least 10
    } else if (c == '@') {
      return true;
    } else if ((c == 'r' || c == 'R') && i >= bearer.size() - 1) {
      bool match = true;
      for (std::size_t k = 0; k < bearer.size() && match; ++k)
        match = ascii_lower(s[i + 1 - bearer.size() + k]) == bearer[k];
      if (match) return true;
    }
  }
  return false;
}

bool PiiMasker::matches(std::string_view s) const {
  if (!any_ || s.empty() || !may_match(s)) return false;
  // A card candidate may still fail the Luhn check: ask the real thing.
  std::string copy(s);
  return mask(copy);
}

bool PiiMasker::mask(std::string& s) const {
  if (!any_ || s.empty() || !may_match(s)) return false;
  if (!re2::RE2::PartialMatch(s, *any_)) return false;
  bool changed = false;
  for (const auto& p : patterns_) changed |= mask_with(p, s);
  // A replacement can complete a match that was not one: in "a@b.io010-1234-5678" the phone
  // number gets its word boundary only once the address has become "[MASKED:email]". The
  // built-in patterns never match inside a marker, so they run again until nothing changes
  // (each run that changes something removes digits or an '@'; the bound is only a guard).
  // Custom patterns run once: they may match the markers themselves.
  constexpr int kMaxExtraRuns = 4;
  for (int run = 0; changed && run < kMaxExtraRuns; ++run) {
    bool again = false;
    for (const auto& p : patterns_)
      if (p.name != "custom") again |= mask_with(p, s);
    if (!again) break;
  }
  return changed;
}

void PiiMasker::mask(sdk::Value& v) const {
  if (v.is_string()) {
    // Value has no mutable string access: copy only when something is to be masked.
    if (!any_ || !may_match(v.as_string()) || !re2::RE2::PartialMatch(v.as_string(), *any_)) return;
    std::string s = v.as_string();
    if (mask(s)) v = sdk::Value(std::move(s));
  } else if (v.is_array()) {
    for (auto& item : v.as_array()) mask(item);
  } else if (v.is_object()) {
    for (auto& [key, item] : v.as_object()) {
      if (is_sensitive_key(key))
        item = sdk::Value("[MASKED]");
      else
        mask(item);
    }
  }
}

}  // namespace crosscut::logging
