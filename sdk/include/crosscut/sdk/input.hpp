// Inputs of agent mode: sources of NDJSON events (stdin, files, sockets) or of market-data
// messages to count (Kafka topics).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string_view>

#include "crosscut/sdk/abi.hpp"
#include "crosscut/sdk/component.hpp"
#include "crosscut/sdk/events.hpp"

CROSSCUT_SDK_BEGIN_NAMESPACE

// Where a line came from, for reports of bad input.
struct InputPosition {
  std::string_view input;  // the input's name, e.g. "stdin" or "unix:/run/crosscut/events.sock"
  std::uint64_t line = 0;  // 1-based line number within that input (or connection)
};

// Implemented by the host. Thread-safe: inputs call it from their own threads concurrently.
// Nothing thrown from here reaches the input: bad content is counted and reported by the host.
class CROSSCUT_SDK_API InputSink {
 public:
  virtual ~InputSink() = default;
  // One line of NDJSON (without the newline).
  virtual void on_line(std::string_view line, const InputPosition& where) = 0;
  // One market-data message to count (inputs that parse their own messages, e.g. Kafka).
  virtual void on_message(const Target& target, std::string_view symbol,
                          std::optional<std::int64_t> event_time_ms) = 0;
  // Input the input itself could not use (e.g. a Kafka message that is not JSON).
  virtual void on_bad_input(const InputPosition& where, std::string_view reason) = 0;
};

// The way back to the sender of one stream (a socket connection), for inputs that can carry
// replies. Implemented by the input, one per stream; the host holds it by shared_ptr for as long
// as it still owes a reply, so it may outlive the stream and the input.
//
// Thread-safety: reserve() is called on the thread that delivered the line, while the host
// handles it; send() from any thread, concurrently.
class CROSSCUT_SDK_API ReplyChannel {
 public:
  virtual ~ReplyChannel() = default;
  // The place of the next reply in this stream's order. Each place gets exactly one send().
  virtual std::uint64_t reserve() = 0;
  // The reply for `place`: one line of JSON, without the newline. Replies leave in the order
  // of their places, so one whose earlier places are still open waits for them. Once the
  // stream has closed, replies are discarded (the input counts them). Never blocks on I/O.
  virtual void send(std::uint64_t place, std::string_view reply) = 0;
};

// Implemented by the host next to InputSink (the same object): an input that can reply finds it
// with dynamic_cast<RequestSink*>(&sink) and, when it is there, delivers the lines of a stream
// that has a way back through on_request_line instead of on_line. A host without it takes the
// lines one-way. Thread-safe, like InputSink.
class CROSSCUT_SDK_API RequestSink {
 public:
  virtual ~RequestSink() = default;
  // As InputSink::on_line; a line that asks for an answer (it carries an "id") gets exactly one
  // reply through `replies`, at once or later from another thread.
  virtual void on_request_line(std::string_view line, const InputPosition& where,
                               const std::shared_ptr<ReplyChannel>& replies) = 0;
};

// Component kind `input`. run() is called once, on a thread of its own; it returns when the
// input has ended (end of file of a non-followed file or stdin) or soon after `stop` is
// requested (within about 100 ms). An exception from run() is reported as the input failing.
class CROSSCUT_SDK_API Input : public Component {
 public:
  static constexpr ComponentKind component_kind = ComponentKind::input;

  virtual void run(InputSink& sink, std::stop_token stop) = 0;
};

CROSSCUT_SDK_END_NAMESPACE
