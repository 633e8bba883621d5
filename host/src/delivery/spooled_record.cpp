#include "delivery/spooled_record.hpp"

#include <cstdint>
#include <cstring>

namespace crosscut::delivery {
namespace {

// Layout, little-endian: u8 version, u8 origin, then id, topic, key and payload as u32 length +
// bytes, then u32 header count and each header's name and value the same way.
constexpr std::uint8_t kVersion = 1;

void put_u32(std::string& out, std::size_t v) {
  const auto x = static_cast<std::uint32_t>(v);
  char b[4];
  std::memcpy(b, &x, 4);
  out.append(b, 4);
}

void put_bytes(std::string& out, std::string_view s) {
  put_u32(out, s.size());
  out.append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u8(std::uint8_t& v) {
    if (in_.empty()) return false;
    v = static_cast<std::uint8_t>(in_.front());
    in_.remove_prefix(1);
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (in_.size() < 4) return false;
    std::memcpy(&v, in_.data(), 4);
    in_.remove_prefix(4);
    return true;
  }
  bool bytes(std::string& s) {
    std::uint32_t n = 0;
    if (!u32(n) || in_.size() < n) return false;
    s.assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace

void encode_record(const sdk::Record& record, std::string& out) {
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(record.origin));
  put_bytes(out, record.id);
  put_bytes(out, record.topic);
  put_bytes(out, record.key);
  put_bytes(out, record.payload);
  put_u32(out, record.headers.size());
  for (const auto& [name, value] : record.headers) {
    put_bytes(out, name);
    put_bytes(out, value);
  }
}

bool decode_record(std::string_view bytes, sdk::Record& record) {
  Reader r(bytes);
  std::uint8_t version = 0;
  std::uint8_t origin = 0;
  std::uint32_t headers = 0;
  if (!r.u8(version) || version != kVersion || !r.u8(origin) ||
      origin > static_cast<std::uint8_t>(sdk::RecordOrigin::error_report) || !r.bytes(record.id) ||
      !r.bytes(record.topic) || !r.bytes(record.key) || !r.bytes(record.payload) || !r.u32(headers))
    return false;
  record.origin = static_cast<sdk::RecordOrigin>(origin);
  record.headers.clear();
  for (std::uint32_t i = 0; i < headers; ++i) {
    auto& [name, value] = record.headers.emplace_back();
    if (!r.bytes(name) || !r.bytes(value)) return false;
  }
  return r.done();
}

}  // namespace crosscut::delivery
