#include "console_log_sink.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pretty_line.hpp"

namespace crosscut::plugins::console_log {
namespace {

ConsoleOptions read_options(const sdk::ConfigView& v) {
  ConsoleOptions o;
  const std::string format = v.get_string("format", "json");
  if (format == "json")
    o.format = Format::json;
  else if (format == "pretty")
    o.format = Format::pretty;
  else
    v.fail("format", "unknown format '" + format + "' (use json or pretty)");
  const std::string stream = v.get_string("stream", "stderr");
  if (stream == "stdout")
    o.to_stdout = true;
  else if (stream != "stderr")
    v.fail("stream", "unknown stream '" + stream + "' (use stderr or stdout)");
  return o;
}

}  // namespace

sdk::ConfigSchema ConsoleLogSink::schema() {
  auto format = sdk::option("format", sdk::OptionType::string, "json",
                            "json: the JSON line; pretty: readable, coloured on a terminal");
  format.choices = {"json", "pretty"};
  auto stream = sdk::option("stream", sdk::OptionType::string, "stderr",
                            "where records go (stdout stays free for record sinks by default)");
  stream.choices = {"stderr", "stdout"};
  return {std::move(format), std::move(stream)};
}

ConsoleLogSink::ConsoleLogSink(const sdk::ConfigView& options, sdk::HostContext&)
    : ConsoleLogSink(read_options(options), nullptr) {}

ConsoleLogSink::ConsoleLogSink(ConsoleOptions options, std::FILE* stream)
    : options_(options), stream_(stream ? stream : (options.to_stdout ? stdout : stderr)) {
  colour_ = options_.format == Format::pretty && ::isatty(::fileno(stream_)) == 1;
}

void ConsoleLogSink::write(const sdk::LogRecord& record) noexcept {
  try {
    line_.clear();
    if (options_.format == Format::json)
      line_.append(record.json);
    else
      append_pretty_line(line_, record, colour_);
    line_ += '\n';
  } catch (...) {
    failures_.fetch_add(1);
    return;
  }
  // One fwrite per line: on unbuffered stderr that is one write(2), so lines do not interleave.
  if (std::fwrite(line_.data(), 1, line_.size(), stream_) == line_.size()) {
    failing_ = false;
    return;
  }
  const int err = errno;
  std::clearerr(stream_);
  failures_.fetch_add(1);
  if (!failing_) {
    failing_ = true;
    std::fprintf(stderr,
                 "crosscut: console log sink: write failed: %s (further failures counted)\n",
                 std::strerror(err));
  }
}

void ConsoleLogSink::flush() noexcept {
  std::fflush(stream_);
}

}  // namespace crosscut::plugins::console_log
