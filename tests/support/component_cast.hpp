// Takes a component a factory made as the interface a test expects.
#pragma once

#include <memory>

#include "crosscut/sdk/component.hpp"

namespace crosscut::testing {

// The component as a T, or nullptr (and the component destroyed) when it is not one.
template <class T>
std::unique_ptr<T> component_as(std::unique_ptr<sdk::Component> component) {
  if (dynamic_cast<T*>(component.get()) == nullptr) return nullptr;
  return std::unique_ptr<T>(static_cast<T*>(component.release()));
}

}  // namespace crosscut::testing
