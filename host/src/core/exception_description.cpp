#include "core/exception_description.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <typeinfo>
#include <unordered_map>

namespace crosscut::core {
namespace {

constexpr int kMaxNestedDepth = 16;

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  std::string name = (status == 0 && out) ? std::string(out.get()) : std::string(mangled);
  // std::throw_with_nested wraps the thrown type; report the type the code threw.
  constexpr std::string_view wrapper = "std::_Nested_exception<";
  if (name.size() > wrapper.size() + 1 && name.compare(0, wrapper.size(), wrapper) == 0 &&
      name.back() == '>')
    name = name.substr(wrapper.size(), name.size() - wrapper.size() - 1);
  return name;
}

// Demangling allocates and walks the name; a service reports the same few types over and over.
const std::string& type_name(const std::type_info& type) {
  thread_local std::unordered_map<const std::type_info*, std::string> cache;
  auto it = cache.find(&type);
  if (it == cache.end()) {
    if (cache.size() > 1024) cache.clear();
    it = cache.emplace(&type, demangle(type.name())).first;
  }
  return it->second;
}

// Inside a catch (...) block: the type of the exception being handled.
std::string current_exception_type() {
  const std::type_info* type = abi::__cxa_current_exception_type();
  return type ? type_name(*type) : std::string("unknown");
}

void append_causes(const std::exception& e, std::vector<sdk::ExceptionInfo>& out, int depth) {
  if (depth >= kMaxNestedDepth) return;
  const auto* nested = dynamic_cast<const std::nested_exception*>(&e);
  if (nested == nullptr || !nested->nested_ptr()) return;
  try {
    std::rethrow_exception(nested->nested_ptr());
  } catch (const std::exception& inner) {
    out.push_back({type_name(typeid(inner)), inner.what(), {}});
    append_causes(inner, out, depth + 1);
  } catch (const char* text) {
    out.push_back({"const char*", text ? text : "", {}});
  } catch (const std::string& text) {
    out.push_back({"std::string", text, {}});
  } catch (...) {
    out.push_back({current_exception_type(), "", {}});
  }
}

}  // namespace

sdk::ExceptionInfo describe_exception(const std::exception& e) noexcept {
  try {
    sdk::ExceptionInfo info;
    info.type = type_name(typeid(e));
    const char* what = e.what();
    info.message = what ? what : "";
    append_causes(e, info.nested, 0);
    return info;
  } catch (...) {
    return {"unknown", "", {}};
  }
}

sdk::ExceptionInfo describe_exception(const std::exception_ptr& e) noexcept {
  if (!e) return {"unknown", "", {}};
  try {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      return describe_exception(ex);
    } catch (const char* text) {
      return {"const char*", text ? text : "", {}};
    } catch (const std::string& text) {
      return {"std::string", text, {}};
    } catch (...) {
      return {current_exception_type(), "", {}};
    }
  } catch (...) {  // copying the message or the type name ran out of memory
    return {"unknown", "", {}};
  }
}

}  // namespace crosscut::core
