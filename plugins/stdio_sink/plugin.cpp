// The stdio_sink plugin: record sinks `stdout` and `file` (NDJSON, one record a line).
#include "crosscut/sdk/sdk.hpp"
#include "stdio_sinks.hpp"

namespace {

using namespace crosscut::sdk;
using crosscut::stdio_sink::FileRecordSink;
using crosscut::stdio_sink::StdoutRecordSink;

PluginDescriptor describe() {
  return {"stdio_sink",
          "1.0.0",
          {make_factory<StdoutRecordSink>(
               "stdout", "NDJSON records on standard output, one {topic,key,value} a line"),
           make_factory<FileRecordSink>(
               "file", "NDJSON records appended to a file, one {topic,key,value} a line")}};
}

}  // namespace

CROSSCUT_PLUGIN(describe)
