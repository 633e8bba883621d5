#include "bus/handler_binding.hpp"

#include <algorithm>
#include <memory>

#include "crosscut/sdk/events.hpp"

namespace crosscut {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string known_list(const EventNames& names) {
  std::string out;
  for (const auto& n : names.all()) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

EventNames::EventNames() {
  for (auto n : {sdk::ErrorEvent::name, sdk::BreakerTransition::name,
                 sdk::MetricsBatchPublished::name, sdk::ProfileSample::name})
    add(n);
}

void EventNames::add(std::string_view name) {
  if (!name.empty() && find(name).empty()) names_.emplace_back(name);
}

std::string_view EventNames::find(std::string_view name) const {
  for (const auto& n : names_)
    if (n == name) return n;
  return {};
}

sdk::OptionSpec handlers_schema() {
  using sdk::OptionType;
  return {
      .key = "handlers",
      .type = OptionType::object_list,
      .description = "event handler components and the events they receive",
      .children = {
          {.key = "type",
           .type = OptionType::string,
           .description = "the event_handler component type",
           .required = true},
          {.key = "on",
           .type = OptionType::string_list,
           .description = "event names to handle (error, breaker_transition, "
                          "metrics_batch, profile_sample, ...)",
           .required = true},
          {.key = "options", .type = OptionType::any, .description = "the handler's own options"}}};
}

std::vector<std::string_view> handler_events(const sdk::ConfigView& item, const EventNames& names) {
  const sdk::ConfigNode* on = item.node().find("on");
  if (on == nullptr || on->kind == sdk::ConfigNode::Kind::null)
    item.fail("on", "missing: list the events to handle (known: " + known_list(names) + ")");
  if (on->kind != sdk::ConfigNode::Kind::sequence)
    item.fail("on", "expected a list of event names, e.g. [error]");
  if (on->items.empty()) item.fail("on", "empty: list at least one event name");

  const auto file = std::make_shared<const std::string>(item.file());
  const std::string on_path = item.path().empty() ? "on" : item.path() + ".on";
  std::vector<std::string_view> events;
  for (std::size_t i = 0; i < on->items.size(); ++i) {
    const sdk::ConfigNode& element = on->items[i];
    const sdk::ConfigView at(&element, file, on_path + "[" + std::to_string(i) + "]");
    if (element.kind != sdk::ConfigNode::Kind::scalar) at.fail({}, "expected an event name");
    const std::string_view known = names.find(element.scalar);
    if (known.empty()) {
      std::string message = "unknown event '" + element.scalar + "'";
      std::string_view best;
      std::size_t best_distance = 3;  // suggest only close spellings
      for (const auto& n : names.all()) {
        const std::size_t d = edit_distance(element.scalar, n);
        if (d < best_distance) best_distance = d, best = n;
      }
      if (!best.empty()) message += " (did you mean '" + std::string(best) + "'?)";
      message += "; known events: " + known_list(names);
      at.fail({}, message);
    }
    if (std::find(events.begin(), events.end(), known) == events.end()) events.push_back(known);
  }
  return events;
}

std::vector<sdk::Subscription> bind_handler(sdk::EventBus& bus, sdk::EventHandler& handler,
                                            const std::vector<std::string_view>& events) {
  std::vector<sdk::Subscription> subscriptions;
  subscriptions.reserve(events.size());
  for (auto name : events)
    subscriptions.push_back(
        bus.subscribe(name, [&handler](const sdk::EventRef& event) { handler.handle(event); }));
  return subscriptions;
}

}  // namespace crosscut
