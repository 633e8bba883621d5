#include "crosscut/version.hpp"

namespace crosscut {

const char* version() noexcept {
  return CROSSCUT_VERSION;
}

}  // namespace crosscut
