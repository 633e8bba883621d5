#include "kafka_input_options.hpp"

#include <stdexcept>
#include <utility>

namespace crosscut::kafka {
namespace {

const sdk::OptionTable<sdk::Target>& target_options() {
  static const sdk::OptionTable<sdk::Target> table{
      sdk::bind_option("exchange", &sdk::Target::exchange, "e.g. upbit").required(),
      sdk::bind_option("region", &sdk::Target::region, "e.g. korea").required(),
      sdk::bind_option("request_type", &sdk::Target::request_type, "e.g. ticker").required(),
  };
  return table;
}

const sdk::OptionTable<TopicOptions>& topic_options() {
  static const sdk::OptionTable<TopicOptions> table{
      sdk::bind_option("topic", &TopicOptions::topic, "topic name").required(),
      sdk::bind_option("target", &TopicOptions::target,
                       "the connection the messages are counted for")
          .required()
          .members(target_options()),
      sdk::bind_option("symbol_field", &TopicOptions::symbol_field,
                       "JSON member holding the symbol, e.g. code")
          .required(),
      sdk::bind_option("time_field", &TopicOptions::time_field,
                       "JSON member holding the event time in epoch ms, e.g. timestamp "
                       "(absent: counted in the minute of arrival)"),
      sdk::bind_option("symbol_regex", &TopicOptions::symbol_regex,
                       "RE2 with one capture group taking the symbol out, e.g. ^KRW-(.*)$"),
  };
  return table;
}

}  // namespace

const sdk::OptionTable<KafkaInputOptions>& kafka_input_options() {
  using O = KafkaInputOptions;
  static const sdk::OptionTable<O> table{
      sdk::bind_option("brokers", &O::brokers, "bootstrap servers, host:port[,host:port...]")
          .required(),
      sdk::bind_option("group_id", &O::group_id,
                       "consumer group; offsets are committed for it after processing")
          .required(),
      sdk::bind_option("client_id", &O::client_id, "client.id sent to the brokers"),
      sdk::bind_option("auto_offset_reset", &O::auto_offset_reset,
                       "where a group without a committed offset starts")
          .one_of({"earliest", "latest"}),
      sdk::bind_option("commit_interval", &O::commit_interval,
                       "how often offsets of processed messages are committed")
          .min(sdk::kMinimumInterval),
      sdk::bind_option("topics", &O::topics,
                       "topics to count, each {topic, target, symbol_field, ...}")
          .required()
          .members(topic_options()),
      sdk::unbound("properties", sdk::OptionType::string_map,
                   "any librdkafka consumer property (SASL/SSL...); secrets via ${ENV}"),
  };
  return table;
}

std::vector<Property> consumer_properties(const KafkaInputOptions& o, const sdk::ConfigView& view) {
  // Present but empty passes the host's `required` check; it names nothing.
  if (o.brokers.empty()) view.fail("brokers", "at least one host:port is required");
  if (o.group_id.empty()) view.fail("group_id", "a consumer group is required");
  return {
      {"bootstrap.servers", o.brokers, "brokers"},
      {"group.id", o.group_id, "group_id"},
      {"client.id", o.client_id, "client_id"},
      {"auto.offset.reset", o.auto_offset_reset, "auto_offset_reset"},
      // Offsets are stored after each message is processed and committed by the input.
      {"enable.auto.commit", "false", ""},
      {"enable.auto.offset.store", "false", ""},
  };
}

std::vector<TopicBinding> bind_topics(const KafkaInputOptions& options,
                                      const sdk::ConfigView& view) {
  if (options.topics.empty()) view.fail("topics", "at least one topic is required");
  const std::vector<sdk::ConfigView> entries = view.children("topics");
  std::vector<TopicBinding> bound;
  for (std::size_t i = 0; i < options.topics.size(); ++i) {
    const TopicOptions& t = options.topics[i];
    const sdk::ConfigView& at = entries.at(i);
    if (t.topic.empty()) at.fail("topic", "a topic name is required");
    if (t.topic.front() == '^')
      at.fail("topic", "topic patterns are not supported; list each topic by name");
    for (const auto& existing : bound)
      if (existing.topic == t.topic) at.fail("topic", "topic '" + t.topic + "' is listed twice");
    const sdk::ConfigView target = at.child("target");
    if (t.target.exchange.empty()) target.fail("exchange", "is required");
    if (t.target.region.empty()) target.fail("region", "is required");
    if (t.target.request_type.empty()) target.fail("request_type", "is required");
    if (t.symbol_field.empty())
      at.fail("symbol_field", "the JSON member of the symbol is required");
    TopicBinding b{t.topic, t.target, nullptr};
    try {
      b.fields =
          std::make_shared<const MessageFields>(t.symbol_field, t.time_field, t.symbol_regex);
    } catch (const std::invalid_argument& e) {
      at.fail("symbol_regex", e.what());
    }
    bound.push_back(std::move(b));
  }
  return bound;
}

}  // namespace crosscut::kafka
