// A failing sink is logged and counted and never feeds the dispatcher in a loop.
#include <gtest/gtest.h>

#include "errors_test_support.hpp"

namespace crosscut {
namespace {

using errors_test::MemorySink;
using errors_test::upbit;

struct Fixture : errors_test::DispatcherHarness {
  Fixture() : DispatcherHarness({.options = with_sink("kafka-main")}) {}
  int logged_failures() {
    int n = 0;
    for (const auto& r : log.records())
      if (r.message == "error report not published") ++n;
    return n;
  }
};

TEST(ErrorPublishFailure, RefusedRecordIsLoggedAndCounted) {
  Fixture f;
  f.sink.mode = MemorySink::Mode::refuse;
  f.dispatcher->dispatch(std::runtime_error("x"), "ws_connection", upbit());
  const auto s = f.dispatcher->stats();
  EXPECT_EQ(s.publish_failures, 1u);
  EXPECT_EQ(s.published, 0u);
  EXPECT_EQ(s.seen, 1u);
  EXPECT_EQ(f.logged_failures(), 1);
}

TEST(ErrorPublishFailure, ThrowingSinkIsLoggedAndCounted) {
  Fixture f;
  f.sink.mode = MemorySink::Mode::throw_error;
  EXPECT_NO_THROW(f.dispatcher->dispatch(std::runtime_error("x"), "ws_connection", upbit()));
  EXPECT_EQ(f.dispatcher->stats().publish_failures, 1u);
  EXPECT_EQ(f.logged_failures(), 1);
}

TEST(ErrorPublishFailure, SinkReportingItsOwnFailureDoesNotReenter) {
  Fixture f;
  int reports = 0;
  // A sink that, like a failing Kafka producer, turns its failure into an error report.
  f.sink.on_publish = [&] {
    ++reports;
    f.dispatcher->dispatch(std::runtime_error("delivery failed"), "kafka_producer", upbit());
  };
  f.sink.mode = MemorySink::Mode::refuse;
  f.dispatcher->dispatch(std::runtime_error("x"), "ws_connection", upbit());
  EXPECT_EQ(reports, 1);
  const auto s = f.dispatcher->stats();
  EXPECT_EQ(s.seen, 1u);
  EXPECT_EQ(s.reentrant, 1u);
  EXPECT_EQ(s.publish_failures, 1u);
  // The dispatcher works normally afterwards.
  f.sink.on_publish = nullptr;
  f.sink.mode = MemorySink::Mode::accept;
  f.dispatcher->dispatch(std::runtime_error("y"), "ws_connection", upbit());
  EXPECT_EQ(f.sink.records().size(), 1u);
}

TEST(ErrorPublishFailure, NoSinkMeansNothingPublishedButErrorsStillCounted) {
  testing::CapturingLogger log("errors");
  testing::ManualClock clock;
  ErrorDispatcher dispatcher(
      ErrorsOptions{},
      DispatcherParts{log, clock, {}, nullptr, nullptr, {}, ServiceInfo{"svc", "h", 1}});
  dispatcher.dispatch(std::runtime_error("x"), "ws_connection", upbit());
  EXPECT_EQ(dispatcher.stats().seen, 1u);
  EXPECT_EQ(dispatcher.stats().not_published, 1u);
}

}  // namespace
}  // namespace crosscut
