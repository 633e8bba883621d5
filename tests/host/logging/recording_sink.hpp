// A log sink that keeps what it is given, for assertions (thread-safe reads).
#pragma once

#include <rapidjson/document.h>

#include <mutex>
#include <string>
#include <vector>

#include "crosscut/sdk/log.hpp"
#include "support/gate.hpp"

namespace crosscut::testing {

struct RecordedLog {
  std::string json;
  sdk::Level level;
  std::string logger;
  std::string category;
  std::string message;
  sdk::Value extra;  // null when the record had no extra fields
};

class RecordingSink : public sdk::LogSink {
 public:
  void write(const sdk::LogRecord& r) noexcept override {
    std::lock_guard lock(mu_);
    records_.push_back({std::string(r.json), r.level, std::string(r.logger),
                        std::string(r.category), std::string(r.message),
                        r.extra ? *r.extra : sdk::Value()});
    events_.push_back("write:" + std::string(r.message));
  }
  void flush() noexcept override {
    std::lock_guard lock(mu_);
    ++flushes_;
    events_.push_back("flush");
  }
  void reopen() noexcept override {
    std::lock_guard lock(mu_);
    ++reopens_;
  }
  std::vector<RecordedLog> records() const {
    std::lock_guard lock(mu_);
    return records_;
  }
  std::vector<std::string> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  int reopens() const {
    std::lock_guard lock(mu_);
    return reopens_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<RecordedLog> records_;
  std::vector<std::string> events_;
  int flushes_ = 0;
  int reopens_ = 0;
};

// Parses a JSON line with UTF-8 validation; returns false when it is not valid JSON.
inline bool parse_json_line(const std::string& line, rapidjson::Document& doc) {
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
  return !doc.HasParseError();
}

// A recording sink that holds the logging thread in write() until opened: records then wait
// in the queues, so that overflow and ordering can be tested deterministically.
class GateSink : public RecordingSink {
 public:
  void write(const sdk::LogRecord& r) noexcept override {
    gate_.wait();
    RecordingSink::write(r);
  }
  void wait_entered() { gate_.wait_until_entered(); }
  void open() { gate_.open(); }

 private:
  Gate gate_;
};

}  // namespace crosscut::testing
