#include "cluster_slots.hpp"

#include <array>
#include <charconv>

namespace crosscut::redis {
namespace {

constexpr std::array<std::uint16_t, 256> crc16_table() {
  std::array<std::uint16_t, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    auto c = static_cast<std::uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit)
      c = (c & 0x8000) != 0 ? static_cast<std::uint16_t>((c << 1) ^ 0x1021)
                            : static_cast<std::uint16_t>(c << 1);
    table[i] = c;
  }
  return table;
}

constexpr auto kCrc16Table = crc16_table();

bool parse_int(std::string_view text, int& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

std::uint16_t crc16(std::string_view data) {
  std::uint16_t crc = 0;
  for (const unsigned char c : data)
    crc = static_cast<std::uint16_t>((crc << 8) ^ kCrc16Table[((crc >> 8) ^ c) & 0xFF]);
  return crc;
}

int key_slot(std::string_view key) {
  if (auto open = key.find('{'); open != std::string_view::npos) {
    auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1)
      key = key.substr(open + 1, close - open - 1);
  }
  return crc16(key) % kClusterSlotCount;
}

std::optional<ClusterRedirect> parse_redirect(std::string_view error) {
  ClusterRedirect r;
  if (error.starts_with("MOVED ")) {
    r.kind = ClusterRedirect::Kind::moved;
    error.remove_prefix(6);
  } else if (error.starts_with("ASK ")) {
    r.kind = ClusterRedirect::Kind::ask;
    error.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const auto space = error.find(' ');
  if (space == std::string_view::npos || !parse_int(error.substr(0, space), r.slot) || r.slot < 0 ||
      r.slot >= kClusterSlotCount)
    return std::nullopt;
  const std::string_view endpoint = error.substr(space + 1);
  // host:port, the host possibly an IPv6 address (its own colons) or empty.
  const auto colon = endpoint.rfind(':');
  if (colon == std::string_view::npos || !parse_int(endpoint.substr(colon + 1), r.node.port) ||
      r.node.port <= 0 || r.node.port > 65535)
    return std::nullopt;
  r.node.host = std::string(endpoint.substr(0, colon));
  return r;
}

std::optional<ClusterSlotMap> ClusterSlotMap::from_reply(const Reply& reply,
                                                         std::string_view asked_host,
                                                         std::string& error) {
  if (reply.is_error()) {
    error = "CLUSTER SLOTS refused: " + reply.str;
    return std::nullopt;
  }
  if (reply.type != Reply::Type::array) {
    error = "CLUSTER SLOTS did not answer a list of slot ranges";
    return std::nullopt;
  }
  ClusterSlotMap map;
  for (const Reply& range : reply.elements) {
    // [start, end, [host, port, id, ...], replicas...]
    if (range.type != Reply::Type::array || range.elements.size() < 3 ||
        range.elements[0].type != Reply::Type::integer ||
        range.elements[1].type != Reply::Type::integer ||
        range.elements[2].type != Reply::Type::array || range.elements[2].elements.size() < 2 ||
        range.elements[2].elements[1].type != Reply::Type::integer) {
      error = "CLUSTER SLOTS answered a range that is not [start, end, [host, port, ...], ...]";
      return std::nullopt;
    }
    const long long start = range.elements[0].integer;
    const long long end = range.elements[1].integer;
    const Reply& master = range.elements[2];
    if (start < 0 || end < start || end >= kClusterSlotCount) {
      error = "CLUSTER SLOTS answered a slot range outside 0..16383";
      return std::nullopt;
    }
    ClusterNode node;
    node.host = master.elements[0].str;
    if (node.host == "?") continue;  // a master whose address no node knows: left unserved
    if (node.host.empty()) node.host = std::string(asked_host);
    node.port = static_cast<int>(master.elements[1].integer);
    if (node.port <= 0 || node.port > 65535) {
      error = "CLUSTER SLOTS answered a master without a valid port";
      return std::nullopt;
    }
    const auto index = static_cast<std::int32_t>(map.index_of(node));
    for (long long slot = start; slot <= end; ++slot)
      map.slot_master_[static_cast<std::size_t>(slot)] = index;
  }
  return map;
}

const ClusterNode* ClusterSlotMap::master_of(int slot) const {
  if (slot < 0 || slot >= kClusterSlotCount) return nullptr;
  const std::int32_t index = slot_master_[static_cast<std::size_t>(slot)];
  return index < 0 ? nullptr : &masters_[static_cast<std::size_t>(index)];
}

int ClusterSlotMap::covered() const {
  int n = 0;
  for (const std::int32_t index : slot_master_) n += index >= 0 ? 1 : 0;
  return n;
}

void ClusterSlotMap::move(int slot, const ClusterNode& node) {
  if (slot < 0 || slot >= kClusterSlotCount) return;
  slot_master_[static_cast<std::size_t>(slot)] = static_cast<std::int32_t>(index_of(node));
}

std::size_t ClusterSlotMap::index_of(const ClusterNode& node) {
  for (std::size_t i = 0; i < masters_.size(); ++i)
    if (masters_[i] == node) return i;
  masters_.push_back(node);
  return masters_.size() - 1;
}

}  // namespace crosscut::redis
