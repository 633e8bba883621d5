// A component together with the plugin library that made it. The component is destroyed
// first, then the library reference is dropped: code is never unmapped under a live object.
// `typed` is the same object seen through the interface the builder checked it implements.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "crosscut/sdk/component.hpp"

namespace crosscut::core {

template <class T>
class OwnedComponent {
 public:
  OwnedComponent() = default;
  OwnedComponent(std::shared_ptr<void> library, std::unique_ptr<sdk::Component> object, T* typed,
                 std::string type, std::string name)
      : library_(std::move(library)),
        object_(std::move(object)),
        typed_(typed),
        type_(std::move(type)),
        name_(std::move(name)) {}
  OwnedComponent(OwnedComponent&&) noexcept = default;
  OwnedComponent& operator=(OwnedComponent&& other) noexcept {
    if (this != &other) {
      object_.reset();
      library_ = std::move(other.library_);
      object_ = std::move(other.object_);
      typed_ = other.typed_;
      type_ = std::move(other.type_);
      name_ = std::move(other.name_);
    }
    return *this;
  }
  ~OwnedComponent() { object_.reset(); }

  T* get() const { return typed_; }
  T* operator->() const { return typed_; }
  T& operator*() const { return *typed_; }
  explicit operator bool() const { return typed_ != nullptr; }
  const std::string& type() const { return type_; }
  const std::string& name() const { return name_; }

 private:
  std::shared_ptr<void> library_;  // declared first: released last
  std::unique_ptr<sdk::Component> object_;
  T* typed_ = nullptr;
  std::string type_;
  std::string name_;
};

}  // namespace crosscut::core
