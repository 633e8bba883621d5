// The `file` sink, and the FdRecordSink on a pipe, against the SDK's record sink conformance
// suite.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "config/option_validator.hpp"
#include "crosscut/sdk/sdk.hpp"
#include "crosscut/sdk/testing/record_sink_conformance.hpp"
#include "stdio_sink/fd_record_sink.hpp"
#include "support/component_cast.hpp"
#include "support/process.hpp"
#include "support/test_host.hpp"

extern "C" const crosscut_plugin_info* crosscut_plugin_entry();

namespace {

using crosscut::sdk::ConfigNode;
using crosscut::sdk::ConfigView;
using crosscut::sdk::DeliveryStats;
using crosscut::sdk::Record;
using crosscut::sdk::RecordSink;

// Outlive every sink of the program.
crosscut::testing::TestHost& suite_host() {
  static crosscut::testing::TestHost host;
  return host;
}
const crosscut::testing::TempDir& suite_dir() {
  static const crosscut::testing::TempDir dir;
  return dir;
}

// The plugin's `file` component on a fresh file, built as the host builds it.
std::unique_ptr<RecordSink> make_file_sink() {
  static std::atomic<int> next{0};
  const auto path = suite_dir().path() / ("conformance-" + std::to_string(next++) + ".ndjson");
  const auto* info = crosscut_plugin_entry();
  const auto& d = *static_cast<const crosscut::sdk::PluginDescriptor*>(info->descriptor);
  for (const auto& f : d.components) {
    if (f.type != "file") continue;
    ConfigNode node;
    node.kind = ConfigNode::Kind::map;
    ConfigNode value;
    value.kind = ConfigNode::Kind::scalar;
    value.scalar = path.string();
    node.entries.emplace_back("path", value);
    auto file = std::make_shared<const std::string>("crosscut.yaml");
    crosscut::config::validate_options(node, f.schema, {file, "sinks.out"});
    return crosscut::testing::component_as<RecordSink>(
        f.create(ConfigView(&node, file, "sinks.out"), suite_host()));
  }
  return nullptr;
}

// An FdRecordSink on a pipe that a thread keeps draining: the poll-and-chunk write path.
class DrainedPipeSink final : public RecordSink {
 public:
  DrainedPipeSink() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    read_fd_ = fds[0];
    drainer_ = std::thread([fd = read_fd_] {
      char buffer[65536];
      while (::read(fd, buffer, sizeof buffer) > 0) {
      }
    });
    sink_ = std::make_unique<crosscut::stdio_sink::FdRecordSink>(
        fds[1], true, "pipe", crosscut::stdio_sink::QueueOptions{},
        suite_host().logger("pipe_sink", "app"));
  }
  ~DrainedPipeSink() override {
    sink_.reset();  // closes the write end: the drainer reads end of file
    drainer_.join();
    ::close(read_fd_);
  }
  bool publish(Record record) override { return sink_->publish(std::move(record)); }
  bool flush(std::chrono::steady_clock::time_point deadline) override {
    return sink_->flush(deadline);
  }
  DeliveryStats stats() const override { return sink_->stats(); }

 private:
  int read_fd_ = -1;
  std::thread drainer_;
  std::unique_ptr<crosscut::stdio_sink::FdRecordSink> sink_;
};

}  // namespace

CROSSCUT_RECORD_SINK_CONFORMANCE(File, make_file_sink);

CROSSCUT_RECORD_SINK_CONFORMANCE(Pipe, [] { return std::make_unique<DrainedPipeSink>(); });
