// An InputSink that keeps everything it is given, for the local_inputs tests. Thread-safe;
// wait_until() lets a test block (with a bound) until the sink has seen what it expects.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "crosscut/sdk/input.hpp"

namespace crosscut::local_inputs::testing {

struct SeenLine {
  std::string input;
  std::uint64_t line;
  std::string text;
};

struct SeenBad {
  std::string input;
  std::uint64_t line;
  std::string reason;
};

class RecordingSink : public sdk::InputSink {
 public:
  void on_line(std::string_view line, const sdk::InputPosition& where) override {
    {
      std::lock_guard lock(mu_);
      lines_.push_back({std::string(where.input), where.line, std::string(line)});
    }
    changed_.notify_all();
  }
  void on_message(const sdk::Target&, std::string_view, std::optional<std::int64_t>) override {}
  void on_bad_input(const sdk::InputPosition& where, std::string_view reason) override {
    {
      std::lock_guard lock(mu_);
      bad_.push_back({std::string(where.input), where.line, std::string(reason)});
    }
    changed_.notify_all();
  }

  std::vector<SeenLine> lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }
  std::vector<SeenBad> bad() const {
    std::lock_guard lock(mu_);
    return bad_;
  }
  // Texts of the lines of one input, in delivery order.
  std::vector<std::string> texts(const std::string& input) const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& l : lines_)
      if (l.input == input) out.push_back(l.text);
    return out;
  }
  std::size_t line_count() const {
    std::lock_guard lock(mu_);
    return lines_.size();
  }

  // Blocks until `done(lines, bad)` holds (true) or `limit` passed (false).
  bool wait_until(
      const std::function<bool(const std::vector<SeenLine>&, const std::vector<SeenBad>&)>& done,
      std::chrono::milliseconds limit = std::chrono::seconds(20)) const {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, limit, [&] { return done(lines_, bad_); });
  }
  bool wait_for_lines(std::size_t n,
                      std::chrono::milliseconds limit = std::chrono::seconds(20)) const {
    return wait_until([n](const auto& lines, const auto&) { return lines.size() >= n; }, limit);
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::vector<SeenLine> lines_;
  std::vector<SeenBad> bad_;
};

}  // namespace crosscut::local_inputs::testing
