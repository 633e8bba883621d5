// The spdlog sink at the consuming end of the asynchronous queue: it hands each payload
// (an encoded record, see record_codec.hpp) back to the engine on the logging thread.
#pragma once

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>

#include <functional>
#include <string_view>

namespace crosscut::logging {

// Called only from spdlog's single pool thread, hence the null mutex.
class QueueConsumerSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  using Consume = std::function<void(std::string_view payload)>;
  using Flush = std::function<void()>;
  QueueConsumerSink(Consume consume, Flush flush)
      : consume_(std::move(consume)), flush_fn_(std::move(flush)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    consume_(std::string_view(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override { flush_fn_(); }

 private:
  Consume consume_;
  Flush flush_fn_;
};

}  // namespace crosscut::logging
