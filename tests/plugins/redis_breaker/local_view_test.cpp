// The Redis backend's local view: operations that change nothing answered without a round
// trip, changes made elsewhere arriving through the subscription or the re-read, and every
// operation going to Redis while the view is not subscribed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "redis_breaker/breaker_view.hpp"
#include "redis_fixture.hpp"

using crosscut::redis::BreakerView;
using crosscut::redis::RedisBreakerBackend;
using crosscut::redis::ViewedBreaker;
using crosscut::sdk::BreakerOp;
using crosscut::sdk::BreakerPolicy;
using crosscut::sdk::BreakerState;
using crosscut::testing::shared_redis;
using crosscut::testing::TestHost;

namespace {

BreakerPolicy policy() {
  BreakerPolicy p;
  p.failure_threshold = 3;
  p.success_threshold = 1;
  p.half_open_max_calls = 1;
  p.timeout = std::chrono::milliseconds(300);
  p.sliding_window = std::chrono::milliseconds(10000);
  return p;
}

std::string unique_key(const std::string& name) {
  static std::atomic<int> n{0};
  return "view/" + name + "/" + std::to_string(getpid()) + "-" + std::to_string(n++);
}

// EVALSHA calls the shared server has answered.
long long evalsha_calls() {
  return crosscut::testing::evalsha_calls(shared_redis());
}

std::unique_ptr<RedisBreakerBackend> backend(
    TestHost& host, std::chrono::milliseconds refresh = std::chrono::hours(1),
    const std::string& url = shared_redis().url()) {
  auto o = crosscut::testing::redis_options(url);
  o.view_refresh = refresh;
  o.command_timeout = std::chrono::seconds(2);  // a loaded machine must not lose the subscription
  o.reconnect_backoff_max = std::chrono::milliseconds(200);
  return std::make_unique<RedisBreakerBackend>(o, host);
}

void wait_live(RedisBreakerBackend& b) {
  ASSERT_TRUE(b.view_subscription()->wait_live(std::chrono::seconds(10)))
      << "the view did not subscribe";
}

// Calls `probe` until it returns true or 10s pass; says whether it did.
template <typename Probe>
bool eventually(Probe probe) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (probe()) return true;
    std::this_thread::yield();
  }
  return probe();
}

TEST(BreakerView, AnswersOnlyWhatChangesNothing) {
  BreakerView view;
  const BreakerPolicy p = policy();
  EXPECT_FALSE(view.answer("k", BreakerOp::acquire, p, 1000, 0)) << "an unknown key asks Redis";

  ViewedBreaker closed;
  closed.version = 5;
  closed.data.failure_times = {900, 950};
  view.update("k", closed, BreakerView::Source::reply);
  auto a = view.answer("k", BreakerOp::acquire, p, 1000, 0);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->allowed);
  EXPECT_EQ(a->state, BreakerState::closed);
  EXPECT_EQ(a->failures, 2u);
  EXPECT_TRUE(view.answer("k", BreakerOp::success, p, 1000, 0));
  EXPECT_FALSE(view.answer("k", BreakerOp::failure, p, 1000, 0)) << "a failure changes state";
  EXPECT_FALSE(view.answer("k", BreakerOp::reset, p, 1000, 0));
  EXPECT_FALSE(view.answer("k", BreakerOp::force_open, p, 1000, 0));

  ViewedBreaker open;
  open.version = 6;
  open.data.state = BreakerState::open;
  open.data.opened_at_ms = 1000;
  view.update("k", open, BreakerView::Source::reply);
  auto early = view.answer("k", BreakerOp::acquire, p, 1200, 0);
  ASSERT_TRUE(early);
  EXPECT_FALSE(early->allowed);
  ASSERT_TRUE(early->opened_at_ms);
  EXPECT_EQ(*early->opened_at_ms, 1000);
  EXPECT_FALSE(view.answer("k", BreakerOp::acquire, p, 1300, 0)) << "the timeout is Redis' step";
  EXPECT_FALSE(view.answer("k", BreakerOp::acquire, p, 1200, 100)) << "within the clock margin";
  EXPECT_FALSE(view.answer("k", BreakerOp::success, p, 1200, 0));

  ViewedBreaker half;
  half.version = 7;
  half.data.state = BreakerState::half_open;
  half.data.half_open_since_ms = 1300;
  view.update("k", half, BreakerView::Source::reply);
  EXPECT_FALSE(view.answer("k", BreakerOp::acquire, p, 1310, 0)) << "permits are Redis' to give";
  auto state = view.answer("k", BreakerOp::state, p, 1310, 0);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->state, BreakerState::half_open);
  EXPECT_FALSE(view.answer("k", BreakerOp::state, p, 1600, 0)) << "an expired trial ends in Redis";
}

TEST(BreakerView, AnOlderVersionNeverReplacesANewerOneButAReReadAlwaysDoes) {
  BreakerView view;
  ViewedBreaker newer;
  newer.version = 10;
  newer.data.state = BreakerState::open;
  view.update("k", newer, BreakerView::Source::reply);
  ViewedBreaker older;
  older.version = 9;
  view.update("k", older, BreakerView::Source::publication);
  view.update("k", older, BreakerView::Source::reply);
  EXPECT_EQ(view.answer("k", BreakerOp::state, policy(), 0, 0)->state, BreakerState::open);

  ViewedBreaker gone;  // version 0: the key no longer exists
  view.update("k", gone, BreakerView::Source::reply);
  EXPECT_EQ(view.answer("k", BreakerOp::state, policy(), 0, 0)->state, BreakerState::open)
      << "a reply read before the newer change must not undo it";
  const std::uint64_t sent = view.stamp("k");
  view.update("k", older, BreakerView::Source::reread, sent);
  EXPECT_EQ(view.answer("k", BreakerOp::state, policy(), 0, 0)->state, BreakerState::closed)
      << "a re-read is the latest state, even with a version that went back (a failover)";

  // A re-read sent before this process's own write, answered after the write's reply: the
  // write stays (the process sees its own writes), whatever the versions say.
  const std::uint64_t before_write = view.stamp("k");
  ViewedBreaker written;
  written.version = 11;
  written.data.state = BreakerState::open;
  view.update("k", written, BreakerView::Source::reply);
  view.update("k", older, BreakerView::Source::reread, before_write);
  EXPECT_EQ(view.answer("k", BreakerOp::state, policy(), 0, 0)->state, BreakerState::open)
      << "a re-read older than a reply that overtook it is dropped";
  view.update("k", older, BreakerView::Source::reread, view.stamp("k"));
  EXPECT_EQ(view.answer("k", BreakerOp::state, policy(), 0, 0)->state, BreakerState::closed)
      << "the next re-read, sent after the reply, is the latest state again";

  view.update("never-used", newer, BreakerView::Source::publication);
  view.update("never-used", newer, BreakerView::Source::reread);
  EXPECT_FALSE(view.answer("never-used", BreakerOp::state, policy(), 0, 0))
      << "publications about keys this process never used are not kept";
}

TEST(BreakerView, APublicationRacingTheFirstReplyIsKept) {
  BreakerView view;
  view.reserve("k");
  EXPECT_FALSE(view.answer("k", BreakerOp::acquire, policy(), 0, 0))
      << "a placeholder answers nothing";
  ViewedBreaker forced;  // another process forced it open while our first round trip was out
  forced.version = 6;
  forced.data.state = BreakerState::open;
  forced.data.forced_open = true;
  view.update("k", forced, BreakerView::Source::publication);
  ViewedBreaker reply;  // our reply, read just before the change
  reply.version = 5;
  view.update("k", reply, BreakerView::Source::reply);
  auto a = view.answer("k", BreakerOp::acquire, policy(), 0, 0);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->allowed);
}

TEST(BreakerView, FailuresBeyondTheListedOnesAreRedisToCountWhileTheyMayBeInTheWindow) {
  BreakerView view;
  ViewedBreaker many;
  many.version = 3;
  many.data.failure_times = {1000, 2000};
  many.unlisted_failures = 5;  // older than 1000
  view.update("k", many, BreakerView::Source::reply);
  const BreakerPolicy p = policy();  // window 10 s
  EXPECT_FALSE(view.answer("k", BreakerOp::acquire, p, 5000, 0)) << "they may still count";
  auto later = view.answer("k", BreakerOp::acquire, p, 11000, 0);
  ASSERT_TRUE(later) << "the oldest listed left the window, and the unlisted ones before it";
  EXPECT_EQ(later->failures, 1u);
}

TEST(BreakerView, ParsesTheScriptsPublicationsAndRefusesAnythingElse) {
  auto p = BreakerView::parse_publication("17 1 1000 0 0 0 45000 2 900:1,950:2 upbit/korea ticker");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->first, "upbit/korea ticker");
  EXPECT_EQ(p->second.version, 17);
  EXPECT_EQ(p->second.data.state, BreakerState::open);
  EXPECT_EQ(p->second.data.opened_at_ms, 1000);
  EXPECT_EQ(p->second.data.open_duration_ms, 45000);
  EXPECT_EQ(p->second.data.failure_times, (std::vector<std::int64_t>{900, 950}));
  EXPECT_EQ(p->second.unlisted_failures, 0u);
  auto none = BreakerView::parse_publication("3 0 0 0 0 0 0 0 - k");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->second.data.failure_times.empty());
  auto many = BreakerView::parse_publication("3 0 0 0 0 0 0 300 5:1,6:2 k");
  ASSERT_TRUE(many);
  EXPECT_EQ(many->second.unlisted_failures, 298u) << "failures beyond the listed times";
  for (const char* bad :
       {"", "x 1 0 0 0 0 0 0 - k", "1 7 0 0 0 0 0 0 - k", "1 1 0 0 0 0 0 2 1:1,x:2 k",
        "1 1 0 0 0 0 0 0 -", "0 1 0 0 0 0 0 0 - k", "1 1 0 0", "1 1 0 0 0 0 0 - k"})
    EXPECT_FALSE(BreakerView::parse_publication(bad)) << bad;
}

TEST(RedisLocalView, ClosedTrafficMakesNoRoundTrip) {
  TestHost host;
  auto b = backend(host);
  wait_live(*b);
  const auto k = unique_key("closed");
  ASSERT_TRUE(b->apply(k, BreakerOp::acquire, policy(), std::nullopt).allowed);  // learns the key
  const long long before = evalsha_calls();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(b->apply(k, BreakerOp::acquire, policy(), std::nullopt).allowed);
    b->apply(k, BreakerOp::success, policy(), std::nullopt);
  }
  EXPECT_EQ(b->apply(k, BreakerOp::state, policy(), std::nullopt).state, BreakerState::closed);
  EXPECT_EQ(evalsha_calls(), before) << "CLOSED acquire, success and state went to Redis";
  EXPECT_EQ(b->local_answers(), 2001u);

  // A failure changes shared state: it is always a round trip.
  b->apply(k, BreakerOp::failure, policy(), std::nullopt);
  EXPECT_EQ(evalsha_calls(), before + 1);
}

TEST(RedisLocalView, InRateModeAcquiresAreLocalAndEveryOutcomeCountsInRedis) {
  TestHost host;
  auto b = backend(host);
  wait_live(*b);
  const auto k = unique_key("rate");
  BreakerPolicy rate = policy();
  rate.mode = crosscut::sdk::BreakerMode::rate;
  rate.minimum_calls = 1000;
  ASSERT_TRUE(b->apply(k, BreakerOp::acquire, rate, std::nullopt).allowed);  // learns the key
  const long long before = evalsha_calls();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(b->apply(k, BreakerOp::acquire, rate, std::nullopt).allowed);
    b->apply(k, BreakerOp::success, rate, std::nullopt);
  }
  EXPECT_EQ(evalsha_calls(), before + 100) << "each success is counted by the script";
  auto s = b->apply(k, BreakerOp::state, rate, std::nullopt);
  EXPECT_EQ(s.calls, 100u);
  EXPECT_EQ(evalsha_calls(), before + 101) << "the view holds no buckets: state asks Redis";
}

TEST(RedisLocalView, WithTheViewOffEveryOperationIsARoundTrip) {
  TestHost host;
  auto o = crosscut::testing::redis_options(shared_redis().url());
  o.local_view = false;
  RedisBreakerBackend b(o, host);
  EXPECT_EQ(b.view_subscription(), nullptr);
  const auto k = unique_key("off");
  const long long before = evalsha_calls();
  for (int i = 0; i < 100; ++i) b.apply(k, BreakerOp::acquire, policy(), std::nullopt);
  EXPECT_EQ(evalsha_calls(), before + 100);
}

TEST(RedisLocalView, AChangeMadeElsewhereArrivesThroughTheSubscription) {
  // The re-read period is an hour: only a publication can bring the change.
  TestHost host_a;
  TestHost host_b;
  auto a = backend(host_a);
  auto b = backend(host_b);
  wait_live(*a);
  const auto k = unique_key("elsewhere");
  ASSERT_TRUE(a->apply(k, BreakerOp::acquire, policy(), std::nullopt).allowed);
  const auto trips = a->round_trips();

  b->apply(k, BreakerOp::force_open, policy(), std::nullopt);  // as `crosscut breaker open` does
  EXPECT_TRUE(eventually([&] {
    return !a->apply(k, BreakerOp::acquire, policy(), std::nullopt).allowed;
  })) << "the forced open never reached the other view";
  EXPECT_EQ(a->apply(k, BreakerOp::state, policy(), std::nullopt).state, BreakerState::open);

  b->apply(k, BreakerOp::reset, policy(), std::nullopt);
  EXPECT_TRUE(
      eventually([&] { return a->apply(k, BreakerOp::acquire, policy(), std::nullopt).allowed; }));
  EXPECT_EQ(a->round_trips(), trips) << "the view learned both changes without asking Redis";
  EXPECT_EQ(a->view_subscription()->refreshes(), 1u) << "only the re-read after subscribing";
}

TEST(RedisLocalView, FailuresRecordedElsewhereOpenTheBreakerForEveryone) {
  TestHost host_a;
  TestHost host_b;
  auto a = backend(host_a);
  auto b = backend(host_b);
  wait_live(*a);
  wait_live(*b);
  const auto k = unique_key("failures");
  a->apply(k, BreakerOp::acquire, policy(), std::nullopt);
  b->apply(k, BreakerOp::failure, policy(), std::nullopt);
  b->apply(k, BreakerOp::failure, policy(), std::nullopt);
  EXPECT_TRUE(eventually([&] {
    return a->apply(k, BreakerOp::state, policy(), std::nullopt).failures == 2;
  })) << "the failures recorded elsewhere are in the view";
  // The third failure, from this process, opens it: the reply updates this view at once.
  auto r = a->apply(k, BreakerOp::failure, policy(), std::nullopt);
  ASSERT_TRUE(r.transition);
  EXPECT_EQ(r.transition->to, BreakerState::open);
  EXPECT_FALSE(a->apply(k, BreakerOp::acquire, policy(), std::nullopt).allowed);
  EXPECT_TRUE(
      eventually([&] { return !b->apply(k, BreakerOp::acquire, policy(), std::nullopt).allowed; }));
}

TEST(RedisLocalView, MoreFailuresThanTheViewListsAreCountedByRedis) {
  TestHost host;
  auto b = backend(host);
  wait_live(*b);
  const auto k = unique_key("many");
  BreakerPolicy p = policy();
  p.failure_threshold = 1000;
  const std::int64_t t = host.manual_clock().now_ms();
  for (int i = 0; i < 300; ++i) b->apply(k, BreakerOp::failure, p, t + i);
  const long long before = evalsha_calls();
  EXPECT_EQ(b->apply(k, BreakerOp::state, p, t + 300).failures, 300u);
  EXPECT_EQ(evalsha_calls(), before + 1) << "only Redis can count what the view does not list";
  // Once the newest listed failures have left the window, so have all the others.
  auto later = b->apply(k, BreakerOp::state, p, t + 300 + p.sliding_window.count());
  EXPECT_EQ(later.failures, 0u);
  EXPECT_EQ(evalsha_calls(), before + 1) << "answered by the view";
}

TEST(RedisLocalView, TheReReadRepairsAChangeThatWasNeverPublished) {
  TestHost host;
  auto a = backend(host, std::chrono::milliseconds(200));
  wait_live(*a);
  const auto k = unique_key("unpublished");
  ASSERT_TRUE(a->apply(k, BreakerOp::acquire, policy(), std::nullopt).allowed);
  const auto trips = a->round_trips();
  // A writer that does not publish (an older crosscut, an operator's HSET).
  const auto [hash_key, zset_key] = a->redis_keys(k);
  const std::string far = std::to_string(host.manual_clock().now_ms() + 3'600'000);
  shared_redis().command({"HSET", hash_key, "st", "1", "oa", far, "fo", "1", "v", "9000000000000"});
  EXPECT_TRUE(eventually([&] {
    return !a->apply(k, BreakerOp::acquire, policy(), std::nullopt).allowed;
  })) << "the periodic re-read never saw the change";
  EXPECT_GE(a->view_subscription()->refreshes(), 2u);
  EXPECT_EQ(a->round_trips(), trips) << "the view learned it, not a round trip";
}

TEST(RedisLocalView, WhileItCannotSubscribeEveryOperationGoesToRedis) {
  // A user allowed every key and command but no channel.
  shared_redis().command({"ACL", "SETUSER", "viewer", "on", ">pw", "~*", "resetchannels", "+@all"});
  const std::string url =
      "redis://viewer:pw@127.0.0.1:" + std::to_string(shared_redis().port()) + "/0";
  TestHost host;
  auto a = backend(host, std::chrono::hours(1), url);
  EXPECT_TRUE(eventually([&] {
    for (const auto& log : host.logs("redis_breaker"))
      if (log.message.find("breaker view unsubscribed") != std::string::npos) return true;
    return false;
  })) << "the refused subscription was not logged";
  const auto k = unique_key("unsubscribed");
  const long long before = evalsha_calls();
  for (int i = 0; i < 100; ++i) a->apply(k, BreakerOp::acquire, policy(), std::nullopt);
  EXPECT_EQ(evalsha_calls(), before + 100);
  EXPECT_FALSE(a->view_subscription()->live());
  EXPECT_EQ(a->view_subscription()->subscriptions(), 0u);
  // Without the channel right the script cannot publish; its changes still apply, whole.
  for (int i = 0; i < 3; ++i) {
    auto r = a->apply(k, BreakerOp::failure, policy(), std::nullopt);
    EXPECT_FALSE(r.degraded) << r.failures;
  }
  EXPECT_EQ(a->apply(k, BreakerOp::state, policy(), std::nullopt).state, BreakerState::open);
  EXPECT_TRUE(host.errors().empty()) << "a refused publication is not a Redis failure";
  a->apply(k, BreakerOp::reset, policy(), std::nullopt);

  shared_redis().command({"ACL", "SETUSER", "viewer", "allchannels"});
  wait_live(*a);
  const long long live_before = evalsha_calls();
  for (int i = 0; i < 100; ++i) a->apply(k, BreakerOp::acquire, policy(), std::nullopt);
  EXPECT_EQ(evalsha_calls(), live_before) << "subscribed again, the view answers";
}

TEST(RedisLocalView, ALostSubscriptionIsRestoredAndCatchesUp) {
  TestHost host_a;
  TestHost host_b;
  auto a = backend(host_a);
  auto b = backend(host_b);
  wait_live(*a);
  const auto k = unique_key("restored");
  ASSERT_TRUE(a->apply(k, BreakerOp::acquire, policy(), std::nullopt).allowed);
  shared_redis().command({"CLIENT", "KILL", "TYPE", "pubsub"});
  // Made while the subscription may be down: the re-read after subscribing again sees it.
  b->apply(k, BreakerOp::force_open, policy(), std::nullopt);
  EXPECT_TRUE(eventually([&] { return a->view_subscription()->subscriptions() >= 2; }))
      << "the lost subscription was never restored";
  wait_live(*a);
  EXPECT_TRUE(
      eventually([&] { return !a->apply(k, BreakerOp::acquire, policy(), std::nullopt).allowed; }));
}

TEST(RedisLocalView, OnServerTimeTheViewRejectsUntilTheTimeoutAndRedisTakesTheStep) {
  TestHost host;  // a clock that never moves: the view must follow Redis' clock, not this one
  auto o = crosscut::testing::redis_options(shared_redis().url());
  o.use_server_time = true;
  o.command_timeout = std::chrono::seconds(2);
  RedisBreakerBackend b(o, host);
  wait_live(b);
  const auto k = unique_key("server-time");
  BreakerPolicy p = policy();
  p.failure_threshold = 1;
  p.timeout = std::chrono::seconds(2);  // the early acquire stays far from it, even when slow
  auto opened = b.apply(k, BreakerOp::failure, p, std::nullopt);
  ASSERT_TRUE(opened.transition);
  ASSERT_TRUE(opened.opened_at_ms);
  const auto trips = b.round_trips();
  auto early = b.apply(k, BreakerOp::acquire, p, std::nullopt);
  EXPECT_FALSE(early.allowed);
  EXPECT_EQ(b.round_trips(), trips) << "an OPEN breaker well before its timeout is answered here";

  crosscut::sdk::BreakerResult later;
  EXPECT_TRUE(eventually([&] {
    later = b.apply(k, BreakerOp::acquire, p, std::nullopt);
    return later.allowed;
  }));
  ASSERT_TRUE(later.transition);
  EXPECT_EQ(later.transition->to, BreakerState::half_open);
  EXPECT_GE(later.now_ms, *opened.opened_at_ms + p.timeout.count()) << "Redis' clock decided";
}

}  // namespace
