#include "support/kafka_mock_cluster.hpp"

#include <map>
#include <memory>
#include <stdexcept>

namespace crosscut::testing {
namespace {

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

void set(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, name, value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK)
    throw std::runtime_error(std::string("kafka test client: ") + error);
}

Handle make_client(rd_kafka_type_t type,
                   const std::vector<std::pair<const char*, std::string>>& props) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  try {
    for (const auto& [k, v] : props) set(conf, k, v);
  } catch (...) {
    rd_kafka_conf_destroy(conf);
    throw;
  }
  char error[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, error, sizeof error);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("kafka test client: ") + error);
  }
  return Handle(rk);
}

void check(rd_kafka_resp_err_t error, const std::string& what) {
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error(what + ": " + rd_kafka_err2str(error));
}

}  // namespace

KafkaMockCluster::KafkaMockCluster(int brokers) : brokers_(brokers) {
  rk_ = make_client(RD_KAFKA_PRODUCER, {{"log_level", "0"}}).release();
  cluster_ = rd_kafka_mock_cluster_new(rk_, brokers);
  if (cluster_ == nullptr) {
    rd_kafka_destroy(rk_);
    throw std::runtime_error("cannot start the Kafka mock cluster");
  }
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_);
}

KafkaMockCluster::~KafkaMockCluster() {
  rd_kafka_mock_cluster_destroy(cluster_);
  rd_kafka_destroy(rk_);
}

void KafkaMockCluster::create_topic(const std::string& topic, int partitions,
                                    int replication_factor) {
  check(rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, replication_factor),
        "create topic " + topic);
}

void KafkaMockCluster::set_down(int broker_id) {
  check(rd_kafka_mock_broker_set_down(cluster_, broker_id), "broker down");
}

void KafkaMockCluster::set_up(int broker_id) {
  check(rd_kafka_mock_broker_set_up(cluster_, broker_id), "broker up");
}

void KafkaMockCluster::push_request_errors(int16_t api_key,
                                           const std::vector<rd_kafka_resp_err_t>& errors) {
  rd_kafka_mock_push_request_errors_array(cluster_, api_key, errors.size(), errors.data());
}

std::vector<ConsumedMessage> consume_topic(const std::string& bootstrap_servers,
                                           const std::string& topic, std::size_t min_messages,
                                           std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Handle rk = make_client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap_servers},
                                              {"group.id", "crosscut-test-reader"},
                                              {"enable.auto.commit", "false"},
                                              {"enable.partition.eof", "true"},
                                              {"log_level", "3"}});
  rd_kafka_poll_set_consumer(rk.get());

  // Every partition of the topic, from the beginning (waiting for the topic to exist).
  int partitions = 0;
  while (partitions == 0) {
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error("topic " + topic + " did not appear");
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(rk.get(), 0, rkt, &md, 1000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
        partitions = md->topics[0].partition_cnt;
      rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  const auto assigned = rd_kafka_assign(rk.get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  check(assigned, "assign");

  std::vector<ConsumedMessage> out;
  std::map<int32_t, bool> at_end;
  auto complete = [&] {
    if (out.size() < min_messages || static_cast<int>(at_end.size()) < partitions) return false;
    for (const auto& [p, end] : at_end)
      if (!end) return false;
    return true;
  };
  while (!complete() && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 100);
    if (m == nullptr) continue;
    std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> guard(
        m, rd_kafka_message_destroy);
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      at_end[m->partition] = true;
      continue;
    }
    if (m->err) throw std::runtime_error(std::string("consume: ") + rd_kafka_message_errstr(m));
    at_end[m->partition] = false;
    ConsumedMessage c;
    c.topic = topic;
    c.partition = m->partition;
    c.offset = m->offset;
    if (m->key) c.key.emplace(static_cast<const char*>(m->key), m->key_len);
    c.value.assign(static_cast<const char*>(m->payload), m->len);
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name;
      const void* value;
      size_t size;
      for (size_t i = 0;
           rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
           ++i)
        c.headers.emplace_back(name, std::string(static_cast<const char*>(value), size));
    }
    out.push_back(std::move(c));
  }
  rd_kafka_consumer_close(rk.get());
  return out;
}

int64_t committed_offset(const std::string& bootstrap_servers, const std::string& group,
                         const std::string& topic, int32_t partition) {
  Handle rk = make_client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap_servers},
                                              {"group.id", group},
                                              {"enable.auto.commit", "false"},
                                              {"log_level", "3"}});
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), partition);
  const auto error = rd_kafka_committed(rk.get(), list, 10000);
  const int64_t offset = list->elems[0].offset;
  const auto partition_error = list->elems[0].err;
  rd_kafka_topic_partition_list_destroy(list);
  check(error, "committed");
  check(partition_error, "committed partition");
  rd_kafka_consumer_close(rk.get());
  return offset;
}

void produce_messages(const std::string& bootstrap_servers, const std::string& topic,
                      int32_t partition,
                      const std::vector<std::pair<std::string, std::string>>& messages) {
  Handle rk = make_client(RD_KAFKA_PRODUCER,
                          {{"bootstrap.servers", bootstrap_servers}, {"log_level", "3"}});
  for (const auto& [key, value] : messages)
    check(rd_kafka_producev(rk.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                            RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_KEY(key.data(), key.size()),
                            RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
          "produce");
  check(rd_kafka_flush(rk.get(), 30000), "flush");
  if (rd_kafka_outq_len(rk.get()) != 0) throw std::runtime_error("produce: not all delivered");
}

}  // namespace crosscut::testing
