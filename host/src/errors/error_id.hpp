// Random (version 4) UUIDs for error_id.
#pragma once

#include <string>

namespace crosscut {

// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", from a per-thread generator seeded by the OS.
std::string make_uuid_v4();

}  // namespace crosscut
