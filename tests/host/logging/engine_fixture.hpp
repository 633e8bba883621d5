// An engine wired to a recording sink and a manual clock.
#pragma once

#include <memory>

#include "logging/log_engine.hpp"
#include "recording_sink.hpp"
#include "support/test_host.hpp"

namespace crosscut::testing {

struct EngineUnderTest {
  explicit EngineUnderTest(logging::LogOptions options = quiet_options()) {
    engine = std::make_unique<logging::LogEngine>(std::move(options), clock);
    engine->add_sink(&sink);
    engine->start();
  }
  // PII and sampling off: outputs equal inputs exactly.
  static logging::LogOptions quiet_options() {
    logging::LogOptions o;
    o.level = sdk::Level::debug;
    o.pii.enabled = false;
    o.sampling.per_message_per_second = 0;
    return o;
  }
  std::vector<RecordedLog> drain() {
    EXPECT_TRUE(engine->flush(std::chrono::seconds(30)));
    return sink.records();
  }

  ManualClock clock;
  RecordingSink sink;
  std::unique_ptr<logging::LogEngine> engine;  // destroyed first: it borrows sink and clock
};

}  // namespace crosscut::testing
