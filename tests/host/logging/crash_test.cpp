// Crash safety: a child process logs, then dies of a fatal signal or std::terminate. Every
// record it logged must be in its log file, followed by a CRITICAL record naming the cause,
// and it must die as it would have without crosscut (same signal, so core dumps still come).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdio>
#include <exception>
#include <fstream>
#include <functional>
#include <string>

#include "crosscut/runtime.hpp"
#include "engine_fixture.hpp"
#include "logging/log_engine.hpp"
#include "support/process.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CROSSCUT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(undefined_behavior_sanitizer)
#define CROSSCUT_SANITIZED 1
#endif
#endif

namespace crosscut::testing {
namespace {

constexpr int kRecords = 5000;

void crash_segv() {
  volatile std::uintptr_t address = 0;
  *reinterpret_cast<volatile int*>(address) = 1;
}
void crash_fpe() {
#ifdef CROSSCUT_SANITIZED
  ::raise(SIGFPE);  // UBSan would stop a division by zero before the CPU traps
#else
  volatile int zero = 0, dividend = 7;
  volatile int result = dividend / zero;  // a constant dividend would let the compiler avoid idiv
  (void)result;
#endif
}
void crash_ill() {
  __builtin_trap();
}
void crash_bus() {
  ::raise(SIGBUS);
}
void crash_abort() {
  std::abort();
}
void crash_terminate() {
  try {
    throw std::runtime_error("unhandled in a noexcept path");
  } catch (...) {
    std::terminate();  // with a current exception, as an escaping one would be
  }
}

struct Crash {
  const char* name;
  int signal;  // what the process must die of
  void (*crash)();
  const char* cause;  // the "signal" or "reason" field of the critical record
};

const Crash kCrashes[] = {
    {"segv", SIGSEGV, crash_segv, "SIGSEGV"},
    {"bus", SIGBUS, crash_bus, "SIGBUS"},
    {"fpe", SIGFPE, crash_fpe, "SIGFPE"},
    {"ill", SIGILL, crash_ill, "SIGILL"},
    {"abort", SIGABRT, crash_abort, "SIGABRT"},
    {"terminate", SIGABRT, crash_terminate, "std::terminate"},
};

struct Outcome {
  int status = 0;
  int records = 0;  // "before the crash" records in the file
  bool in_order = true;
  std::string last;   // the last line
  std::string cause;  // its signal / reason field
};

// Runs `body` in a child process; it must not return.
int run_child(const std::function<void()>& body) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    try {
      body();
    } catch (...) {
    }
    ::_exit(99);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

Outcome read_log(const std::filesystem::path& path, int status) {
  Outcome o;
  o.status = status;
  std::ifstream in(path);
  int expect = 0;
  for (std::string line; std::getline(in, line);) {
    rapidjson::Document doc;
    doc.Parse(line.c_str());
    if (doc.HasParseError() || !doc.IsObject()) continue;
    o.last = line;
    o.cause.clear();
    if (std::string_view(doc["message"].GetString()) == "before the crash") {
      if (doc["extra"]["i"].GetInt() != expect) o.in_order = false;
      ++expect;
      ++o.records;
    }
    const auto& extra = doc["extra"];
    if (extra.HasMember("signal")) o.cause = extra["signal"].GetString();
    if (extra.HasMember("reason")) o.cause = extra["reason"].GetString();
  }
  return o;
}

std::string config_for(const std::filesystem::path& log, bool handler) {
  return "logging:\n  crash_handler: " + std::string(handler ? "true" : "false") +
         "\n  sampling: {per_message_per_second: 0}\n  sinks:\n    - {type: rotating_file, path: "
         "\"" +
         log.string() + "\"}\n";
}

void log_then(const std::filesystem::path& log, bool handler, void (*crash)()) {
  RuntimeOptions options;
  options.plugin_paths = {CROSSCUT_TEST_PLUGIN_DIR};
  auto rt = Runtime::from_string(config_for(log, handler), "crash.yaml", options);
  auto logger = rt->logger("child");
  for (int i = 0; i < kRecords; ++i) logger.info("before the crash", {{"i", i}});
  crash();
}

void expect_died_of(int status, int signal) {
#ifdef CROSSCUT_SANITIZED
  // A sanitizer's own handler, chained to, reports and exits instead.
  (void)signal;
  EXPECT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 99) << "the child did not crash";
#else
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), signal);
#endif
}

class CrashSafety : public ::testing::TestWithParam<Crash> {};

TEST_P(CrashSafety, EveryQueuedRecordAndTheCrashRecordReachTheFile) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "fork() of a process under TSan";
#endif
  const Crash& c = GetParam();
  TempDir dir;
  const auto log = dir.path() / "crash.log";
  const int status = run_child([&] { log_then(log, true, c.crash); });
  expect_died_of(status, c.signal);
  const Outcome o = read_log(log, status);
  EXPECT_EQ(o.records, kRecords);
  EXPECT_TRUE(o.in_order);
  EXPECT_EQ(o.cause, c.cause) << o.last;
  EXPECT_NE(o.last.find("\"level\":\"CRITICAL\""), std::string::npos) << o.last;
}

INSTANTIATE_TEST_SUITE_P(Signals, CrashSafety, ::testing::ValuesIn(kCrashes),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CrashHandler, TurnedOffWritesNoCrashRecord) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "fork() of a process under TSan";
#endif
  TempDir dir;
  const auto log = dir.path() / "crash.log";
  const int status = run_child([&] { log_then(log, false, crash_abort); });
  expect_died_of(status, SIGABRT);
  const Outcome o = read_log(log, status);
  EXPECT_EQ(o.cause, "") << o.last;
}

// Written by the handler installed before crosscut's.
int g_marker_fd = -1;
void earlier_handler(int signo) {
  const char note[] = "earlier handler ran\n";
  (void)!::write(g_marker_fd, note, sizeof note - 1);
  ::signal(signo, SIG_DFL);  // the fault recurs on return and kills the process
}

TEST(CrashHandler, ChainsToTheHandlerInstalledBefore) {
#if defined(__SANITIZE_THREAD__) || defined(CROSSCUT_SANITIZED)
  GTEST_SKIP() << "the sanitizer runtime owns SIGSEGV";
#endif
  TempDir dir;
  const auto log = dir.path() / "crash.log";
  const auto marker = dir.path() / "marker";
  const int status = run_child([&] {
    g_marker_fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    struct sigaction action {};
    action.sa_handler = earlier_handler;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGSEGV, &action, nullptr);
    log_then(log, true, crash_segv);
  });
  expect_died_of(status, SIGSEGV);
  const Outcome o = read_log(log, status);
  EXPECT_EQ(o.records, kRecords);
  EXPECT_EQ(o.cause, "SIGSEGV");
  std::ifstream in(marker);
  std::string note;
  std::getline(in, note);
  EXPECT_EQ(note, "earlier handler ran");
}

// A sink that writes lines to a buffered file, and one that crashes the logging thread.
class BufferedFileSink : public sdk::LogSink {
 public:
  explicit BufferedFileSink(const std::filesystem::path& path)
      : file_(std::fopen(path.c_str(), "w")) {}
  void write(const sdk::LogRecord& r) noexcept override {
    std::fwrite(r.json.data(), 1, r.json.size(), file_);
    std::fputc('\n', file_);
  }
  void flush() noexcept override { std::fflush(file_); }

 private:
  std::FILE* file_;
};

class CrashingSink : public sdk::LogSink {
 public:
  void write(const sdk::LogRecord& r) noexcept override {
    if (r.message == "boom") crash_segv();
  }
  void flush() noexcept override {}
};

TEST(CrashHandler, ACrashOnTheLoggingThreadStillWritesTheRest) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "fork() of a process under TSan";
#endif
  TempDir dir;
  const auto log = dir.path() / "crash.log";
  const int status = run_child([&] {
    ManualClock clock;
    BufferedFileSink file(log);
    CrashingSink crashing;
    auto options = EngineUnderTest::quiet_options();
    logging::LogEngine engine(options, clock);
    engine.add_sink(&file);
    engine.add_sink(&crashing);
    engine.start();
    auto logger = engine.logger("child");
    for (int i = 0; i < kRecords; ++i) logger.info("before the crash", {{"i", i}});
    logger.info("boom");
    for (;;) ::pause();  // the logging thread crashes the process
  });
  expect_died_of(status, SIGSEGV);
  const Outcome o = read_log(log, status);
  EXPECT_EQ(o.records, kRecords);
  EXPECT_EQ(o.cause, "SIGSEGV") << o.last;
}

}  // namespace
}  // namespace crosscut::testing
