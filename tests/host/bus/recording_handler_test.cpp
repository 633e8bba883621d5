// The recording_handler test plugin, loaded from its .so and bound to the bus the way the
// runtime binds `handlers:` items.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <fstream>

#include "bus/async_event_bus.hpp"
#include "bus/handler_binding.hpp"
#include "bus_test_support.hpp"
#include "crosscut/sdk/plugin.hpp"
#include "support/process.hpp"
#include "support/test_host.hpp"

namespace crosscut {
namespace {

using bus_test::map;
using bus_test::scalar;
using bus_test::sequence;
using std::chrono_literals::operator""s;

const char* const kPluginFile =
    CROSSCUT_TEST_FIXTURE_PLUGIN_DIR "/recording_handler/libcrosscut-recording_handler.so";

TEST(RecordingHandlerFixture, AppendsWhatItIsBoundTo) {
  void* library = dlopen(kPluginFile, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(library, nullptr) << dlerror();
  auto entry = reinterpret_cast<const crosscut_plugin_info* (*)()>(
      dlsym(library, CROSSCUT_PLUGIN_ENTRY_SYMBOL));
  ASSERT_NE(entry, nullptr);
  const auto* descriptor = static_cast<const sdk::PluginDescriptor*>(entry()->descriptor);
  ASSERT_EQ(descriptor->components.size(), 1u);
  const sdk::ComponentFactory& factory = descriptor->components[0];
  EXPECT_EQ(factory.kind, sdk::ComponentKind::event_handler);
  EXPECT_EQ(factory.type, "recording");

  testing::TempDir dir;
  const std::string out = (dir.path() / "events.ndjson").string();
  const auto file = std::make_shared<const std::string>("crosscut.yaml");
  auto item =
      map({{"type", scalar("recording", 5, 11)},
           {"on", sequence({scalar("error", 5, 26), scalar("profile_sample", 5, 33)}, 5, 25)},
           {"options", map({{"path", scalar(out, 5, 60)}}, 5, 50)}},
          5, 5);
  const sdk::ConfigView view(&item, file, "handlers[0]");
  testing::TestHost host;
  {
    testing::CapturingLogger log("bus");
    AsyncEventBus bus({}, log);
    EventNames names;
    auto component = factory.create(view.child("options"), host);
    auto* handler = dynamic_cast<sdk::EventHandler*>(component.get());
    ASSERT_NE(handler, nullptr);
    auto subs = bind_handler(bus, *handler, handler_events(view, names));

    sdk::ErrorEvent error;
    error.kind = "ws_connection";
    error.target = {"upbit", "korea", "ticker"};
    error.info = {"ConnectionError", "refused", {}};
    bus.emit(error);
    bus.emit(sdk::BreakerTransition{});  // not subscribed
    bus.emit(sdk::ProfileSample{"expensive_operation", std::chrono::nanoseconds(1500), 0, 0});
    ASSERT_TRUE(bus.drain(30s));
    subs.clear();  // before the component goes
  }
  std::ifstream in(out);
  std::string first, second, extra;
  ASSERT_TRUE(std::getline(in, first));
  ASSERT_TRUE(std::getline(in, second));
  EXPECT_FALSE(std::getline(in, extra));
  EXPECT_EQ(first,
            R"({"event":"error","kind":"ws_connection","resource":"upbit/korea/ticker",)"
            R"("exception":{"type":"ConnectionError","message":"refused"},"correlation_id":""})");
  EXPECT_EQ(second,
            R"({"event":"profile_sample","operation":"expensive_operation","duration_ns":1500})");
  // Components are destroyed before their library is unloaded.
  dlclose(library);
}

}  // namespace
}  // namespace crosscut
