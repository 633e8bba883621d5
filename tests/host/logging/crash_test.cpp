// Crash safety: a child process (this program again, started fresh so that no handler of an
// earlier test is installed) logs, then dies of a fatal signal or std::terminate. Every
// record it logged must be in its log file, followed by a CRITICAL record naming the cause,
// and it must die as it would have without crosscut (same signal, so core dumps still come).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <map>
#include <string>

#include "crosscut/runtime.hpp"
#include "engine_fixture.hpp"
#include "logging/log_engine.hpp"
#include "support/gate.hpp"
#include "support/process.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CROSSCUT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(undefined_behavior_sanitizer)
#define CROSSCUT_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define CROSSCUT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CROSSCUT_TSAN 1
#endif
#endif

// ThreadSanitizer takes fatal signals for itself: the process dies in its handler.
#ifdef CROSSCUT_TSAN
#define SKIP_UNDER_TSAN() GTEST_SKIP() << "ThreadSanitizer handles fatal signals itself"
#else
#define SKIP_UNDER_TSAN() (void)0
#endif

namespace crosscut::testing {
namespace {

// Logged in a few milliseconds, while writing them takes the logging thread far longer: most
// are still queued when the process crashes.
constexpr int kRecords = 100'000;

void crash_segv() {
  volatile int* volatile address = nullptr;  // volatile: the store must not be optimised away
  *address = 1;
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

const Crash* crash_named(std::string_view name) {
  for (const auto& c : kCrashes)
    if (name == c.name) return &c;
  return nullptr;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

void write_marker(const std::string& text) {
  std::ofstream(env("CROSSCUT_CRASH_MARKER")) << text << "\n";
}

// ---- The child --------------------------------------------------------------------------

void (*segv_disposition())(int) {
  struct sigaction now {};
  ::sigaction(SIGSEGV, nullptr, &now);
  return now.sa_handler;  // the same storage as sa_sigaction: a handler's identity either way
}

void log_then_crash(bool handler, void (*crash)()) {
  RuntimeOptions options;
  options.plugin_paths = {CROSSCUT_TEST_PLUGIN_DIR};
  const std::string config =
      "logging:\n  crash_handler: " + std::string(handler ? "true" : "false") +
      "\n  sampling: {per_message_per_second: 0}\n"
      "  queue: {capacity: 64MiB}\n"
      "  sinks:\n    - {type: rotating_file, path: \"" +
      env("CROSSCUT_CRASH_LOG") + "\"}\n";
  const auto before = segv_disposition();
  auto rt = Runtime::from_string(config, "crash.yaml", options);
  if (!handler)
    write_marker(segv_disposition() == before ? "signals untouched" : "a handler was installed");
  auto logger = rt->logger("child");
  for (int i = 0; i < kRecords; ++i) logger.info("before the crash", {{"i", i}});
  crash();
}

int g_marker_fd = -1;
void earlier_handler(int signo) {
  const char note[] = "earlier handler ran\n";
  (void)!::write(g_marker_fd, note, sizeof note - 1);
  ::signal(signo, SIG_DFL);  // the fault recurs on return and kills the process
}

// Writes lines to a buffered file: only the crash path's flush gets the tail to disk.
class BufferedFileSink : public sdk::LogSink {
 public:
  explicit BufferedFileSink(const std::string& path) : file_(std::fopen(path.c_str(), "w")) {}
  void write(const sdk::LogRecord& r) noexcept override {
    std::fwrite(r.json.data(), 1, r.json.size(), file_);
    std::fputc('\n', file_);
  }
  void flush() noexcept override { std::fflush(file_); }

 private:
  std::FILE* file_;
};

// Holds the logging thread at its first record until everything is queued, then crashes it
// on "boom", with records still queued behind.
class CrashingSink : public sdk::LogSink {
 public:
  void write(const sdk::LogRecord& r) noexcept override {
    gate_.wait();
    if (r.message == "boom") crash_segv();
  }
  void flush() noexcept override {}
  void open() { gate_.open(); }

 private:
  Gate gate_;
};

void crash_on_the_logging_thread() {
  ManualClock clock;
  BufferedFileSink file(env("CROSSCUT_CRASH_LOG"));
  CrashingSink crashing;
  logging::LogEngine engine(EngineUnderTest::quiet_options(), clock);
  engine.add_sink(&file);
  engine.add_sink(&crashing);
  engine.start();
  auto logger = engine.logger("child");
  for (int i = 0; i < 1000; ++i) logger.info("before the crash", {{"i", i}});
  logger.info("boom");
  for (int i = 0; i < 1000; ++i) logger.info("after boom", {{"i", i}});
  crashing.open();
  for (;;) ::pause();  // the logging thread crashes the process
}

void run_child_mode(const std::string& mode);

// A logging thread stuck in a sink (a full pipe, say) while another thread crashes: the
// queues cannot be taken from under it, so the crash is reported on stderr instead.
class StuckSink : public sdk::LogSink {
 public:
  void write(const sdk::LogRecord&) noexcept override { gate_.wait(); }
  void flush() noexcept override {}
  Gate& gate() { return gate_; }

 private:
  Gate gate_;  // never opened
};

void crash_while_the_logging_thread_is_stuck() {
  ManualClock clock;
  StuckSink stuck;
  logging::LogEngine engine(EngineUnderTest::quiet_options(), clock);
  engine.add_sink(&stuck);
  engine.start();
  engine.logger("child").info("stuck in the sink");
  stuck.gate().wait_until_entered();
  crash_abort();
}

// Runs only in a child started by run_child().
TEST(CrashChild, DISABLED_LogThenCrash) {
  const std::string mode = env("CROSSCUT_CRASH_CHILD");
  if (mode.empty()) GTEST_SKIP() << "run by the crash tests in a child process";
  try {
    run_child_mode(mode);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crash child: %s\n", e.what());
    ::_exit(97);
  }
  ::_exit(99);  // not crashed: the parent sees it
}

void run_child_mode(const std::string& mode) {
  if (mode == "off") {
    log_then_crash(false, crash_abort);
  } else if (mode == "chain") {
    g_marker_fd = ::open(env("CROSSCUT_CRASH_MARKER").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    struct sigaction action {};
    action.sa_handler = earlier_handler;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGSEGV, &action, nullptr);
    log_then_crash(true, crash_segv);
  } else if (mode == "logging_thread") {
    crash_on_the_logging_thread();
  } else if (mode == "stuck") {
    crash_while_the_logging_thread_is_stuck();
  } else if (const Crash* c = crash_named(mode)) {
    log_then_crash(true, c->crash);
  }
}

// ---- The parent -------------------------------------------------------------------------

struct Child {
  int status = 0;
  std::map<std::string, int> records;  // per message, the "before"/"after" records
  bool in_order = true;                // "i" counts up per message
  std::string last;                    // the last line
  std::string cause;                   // its "signal" or "reason" field
  std::string marker;
  std::string output;  // what the child printed, for failure messages
};

Child run_child(const std::string& mode) {
  TempDir dir;
  const auto log = dir.path() / "crash.log";
  const auto marker = dir.path() / "marker";
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("CROSSCUT_CRASH_CHILD", mode.c_str(), 1);
    ::setenv("CROSSCUT_CRASH_LOG", log.c_str(), 1);
    ::setenv("CROSSCUT_CRASH_MARKER", marker.c_str(), 1);
    const int out = ::open((dir.path() / "child.out").c_str(), O_WRONLY | O_CREAT, 0600);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execl("/proc/self/exe", "crash-child", "--gtest_filter=CrashChild.DISABLED_LogThenCrash",
            "--gtest_also_run_disabled_tests", static_cast<char*>(nullptr));
    ::_exit(98);
  }
  Child c;
  ::waitpid(pid, &c.status, 0);
  std::ifstream in(log);
  std::map<std::string, int> next;
  for (std::string line; std::getline(in, line);) {
    rapidjson::Document doc;
    doc.Parse(line.c_str());
    if (doc.HasParseError() || !doc.IsObject()) continue;
    c.last = line;
    c.cause.clear();
    const std::string message = doc["message"].GetString();
    const auto& extra = doc["extra"];
    if (extra.HasMember("i")) {
      if (extra["i"].GetInt() != next[message]++) c.in_order = false;
      ++c.records[message];
    }
    if (extra.HasMember("signal")) c.cause = extra["signal"].GetString();
    if (extra.HasMember("reason")) c.cause = extra["reason"].GetString();
  }
  std::ifstream m(marker);
  std::getline(m, c.marker);
  std::ifstream out(dir.path() / "child.out");
  c.output.assign(std::istreambuf_iterator<char>(out), std::istreambuf_iterator<char>());
  return c;
}

void expect_died_of(const Child& child, int signal) {
  const int status = child.status;
  ASSERT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 99) << "did not crash\n" << child.output;
  ASSERT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 98) << "did not start\n" << child.output;
  ASSERT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 97) << child.output;
#ifdef CROSSCUT_SANITIZED
  // A sanitizer's own handler, chained to, reports and exits instead.
  (void)signal;
  EXPECT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
#else
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status << "\n" << child.output;
  EXPECT_EQ(WTERMSIG(status), signal);
#endif
}

class CrashSafety : public ::testing::TestWithParam<Crash> {};

TEST_P(CrashSafety, EveryQueuedRecordAndTheCrashRecordReachTheFile) {
  SKIP_UNDER_TSAN();
  const Crash& c = GetParam();
  Child child = run_child(c.name);
  expect_died_of(child, c.signal);
  EXPECT_EQ(child.records["before the crash"], kRecords);
  EXPECT_TRUE(child.in_order);
  EXPECT_EQ(child.cause, c.cause) << child.last;
  EXPECT_NE(child.last.find("\"level\":\"CRITICAL\""), std::string::npos) << child.last;
}

INSTANTIATE_TEST_SUITE_P(Signals, CrashSafety, ::testing::ValuesIn(kCrashes),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CrashHandler, TurnedOffLeavesSignalsAloneAndWritesNoCrashRecord) {
  SKIP_UNDER_TSAN();
  Child child = run_child("off");
  expect_died_of(child, SIGABRT);
  EXPECT_EQ(child.marker, "signals untouched");
  // The control for the tests above: without the handler, what was still queued is lost.
  EXPECT_LT(child.records["before the crash"], kRecords);
  EXPECT_EQ(child.cause, "") << child.last;
}

TEST(CrashHandler, ChainsToTheHandlerInstalledBefore) {
#ifdef CROSSCUT_SANITIZED
  GTEST_SKIP() << "the sanitizer runtime owns SIGSEGV";
#endif
  Child child = run_child("chain");
  expect_died_of(child, SIGSEGV);
  EXPECT_EQ(child.records["before the crash"], kRecords);
  EXPECT_EQ(child.cause, "SIGSEGV");
  EXPECT_EQ(child.marker, "earlier handler ran");
}

TEST(CrashHandler, ACrashOnTheLoggingThreadStillWritesWhatIsQueuedBehind) {
  SKIP_UNDER_TSAN();
  Child child = run_child("logging_thread");
  expect_died_of(child, SIGSEGV);
  EXPECT_EQ(child.records["before the crash"], 1000);
  EXPECT_EQ(child.records["after boom"], 1000);
  EXPECT_TRUE(child.in_order);
  EXPECT_EQ(child.cause, "SIGSEGV") << child.last;
}

TEST(CrashHandler, ALoggingThreadStuckInASinkGetsTheCrashReportedOnStderr) {
  SKIP_UNDER_TSAN();
  Child child = run_child("stuck");
  expect_died_of(child, SIGABRT);
  EXPECT_NE(child.output.find("\"level\":\"CRITICAL\""), std::string::npos) << child.output;
  EXPECT_NE(child.output.find("fatal signal SIGABRT (queued log records not written: the "
                              "logging thread is stuck in a sink)"),
            std::string::npos)
      << child.output;
}

}  // namespace
}  // namespace crosscut::testing
