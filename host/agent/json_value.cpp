#include "agent/json_value.hpp"

namespace crosscut::agent {

sdk::Value to_value(const rapidjson::Value& json, int max_depth) {
  if (max_depth <= 0) return {};
  switch (json.GetType()) {
    case rapidjson::kNullType:
      return {};
    case rapidjson::kFalseType:
      return false;
    case rapidjson::kTrueType:
      return true;
    case rapidjson::kStringType:
      return std::string(json.GetString(), json.GetStringLength());
    case rapidjson::kNumberType:
      if (json.IsInt64()) return json.GetInt64();
      if (json.IsUint64()) return static_cast<double>(json.GetUint64());
      return json.GetDouble();
    case rapidjson::kArrayType: {
      sdk::Value::Array out;
      out.reserve(json.Size());
      for (const auto& item : json.GetArray()) out.push_back(to_value(item, max_depth - 1));
      return out;
    }
    case rapidjson::kObjectType: {
      sdk::Value::Object out;
      out.reserve(json.MemberCount());
      for (const auto& m : json.GetObject())
        out.emplace_back(std::string(m.name.GetString(), m.name.GetStringLength()),
                         to_value(m.value, max_depth - 1));
      return out;
    }
  }
  return {};
}

}  // namespace crosscut::agent
