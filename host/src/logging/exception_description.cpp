#include "logging/exception_description.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

namespace crosscut::logging {
namespace {

constexpr int kMaxNestedDepth = 16;  // a cycle-free chain that long is already unreadable

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  std::string name = status == 0 && out ? std::string(out.get()) : std::string(mangled);
  // std::throw_with_nested wraps the thrown type in a library-internal class: name the
  // type the user threw.
  constexpr std::string_view wrapper = "std::_Nested_exception<";
  if (name.starts_with(wrapper) && name.ends_with('>'))
    name = name.substr(wrapper.size(), name.size() - wrapper.size() - 1);
  return name;
}

// Appends the causes nested in `e` (outermost first) to `into`.
void collect_nested(const std::exception& e, std::vector<sdk::ExceptionInfo>& into, int depth) {
  if (depth >= kMaxNestedDepth) return;
  try {
    std::rethrow_if_nested(e);
  } catch (const std::exception& inner) {
    into.push_back({demangle(typeid(inner).name()), inner.what(), {}});
    collect_nested(inner, into, depth + 1);
  } catch (...) {
    into.push_back({"unknown", "", {}});
  }
}

}  // namespace

sdk::ExceptionInfo describe_exception(const std::exception& e) noexcept {
  try {
    sdk::ExceptionInfo info{demangle(typeid(e).name()), e.what(), {}};
    collect_nested(e, info.nested, 0);
    return info;
  } catch (...) {
    return {};
  }
}

sdk::ExceptionInfo describe_exception(const std::exception_ptr& e) noexcept {
  if (!e) return {};
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return describe_exception(ex);
  } catch (...) {
    return sdk::ExceptionInfo{"unknown", "", {}};
  }
}

sdk::Value exception_value(const sdk::ExceptionInfo& info) {
  sdk::Value::Array nested;
  nested.reserve(info.nested.size());
  for (const auto& n : info.nested) nested.push_back(exception_value(n));
  sdk::Value::Object o;
  o.emplace_back("type", info.type);
  o.emplace_back("message", info.message);
  o.emplace_back("nested", sdk::Value(std::move(nested)));
  return sdk::Value(std::move(o));
}

}  // namespace crosscut::logging
