#include "error_ledger_handler.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace {

namespace sdk = crosscut::sdk;
using vendor_rules::ErrorLedgerHandler;

sdk::ErrorEvent error_event(std::string message) {
  sdk::ErrorEvent e;
  e.kind = "ws_connection";
  e.target = {"upbit", "korea", "ticker"};
  e.info = {"ConnectionError", std::move(message), {}};
  e.timestamp = std::chrono::system_clock::time_point(std::chrono::milliseconds(1736746200123));
  return e;
}

TEST(ErrorLedgerHandler, FormatsOneLinePerError) {
  EXPECT_EQ(ErrorLedgerHandler::format_line(error_event("VND-429\nforged line")),
            "2025-01-13T05:30:00.123Z ws_connection upbit/korea/ticker ConnectionError: "
            "VND-429 forged line");
}

TEST(ErrorLedgerHandler, AppendsErrorEventsAndIgnoresOthers) {
  char dir_template[] = "/tmp/error_ledger_test.XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/ledger.log";
  {
    ErrorLedgerHandler handler(path);
    const sdk::ErrorEvent first = error_event("first");
    const sdk::ErrorEvent second = error_event("second");
    const sdk::ProfileSample sample{"op", {}, 0, 0};
    handler.handle({sdk::ErrorEvent::name, &first});
    handler.handle({sdk::ProfileSample::name, &sample});
    handler.handle({sdk::ErrorEvent::name, &second});
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), ErrorLedgerHandler::format_line(error_event("first")) + "\n" +
                            ErrorLedgerHandler::format_line(error_event("second")) + "\n");
  std::remove(path.c_str());
  ::rmdir(dir_template);
}

TEST(ErrorLedgerHandler, ConcurrentHandlersWriteWholeLines) {
  // Bus workers call handle() concurrently: every line must arrive whole, none lost.
  char dir_template[] = "/tmp/error_ledger_test.XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/ledger.log";
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  {
    ErrorLedgerHandler handler(path);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&handler, t] {
        const sdk::ErrorEvent e = error_event("thread-" + std::to_string(t));
        for (int i = 0; i < kPerThread; ++i) handler.handle({sdk::ErrorEvent::name, &e});
      });
    for (auto& th : threads) th.join();
  }
  std::ifstream in(path);
  std::vector<int> per_thread(kThreads, 0);
  std::string line;
  while (std::getline(in, line)) {
    bool matched = false;
    for (int t = 0; t < kThreads; ++t)
      if (line == ErrorLedgerHandler::format_line(error_event("thread-" + std::to_string(t)))) {
        ++per_thread[t];
        matched = true;
      }
    EXPECT_TRUE(matched) << "torn or foreign line: " << line;
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(per_thread[t], kPerThread) << "thread " << t;
  std::remove(path.c_str());
  ::rmdir(dir_template);
}

TEST(ErrorLedgerHandler, RefusesAFileItCannotOpen) {
  EXPECT_THROW(ErrorLedgerHandler("/nonexistent-dir/ledger.log"), std::runtime_error);
}

}  // namespace
