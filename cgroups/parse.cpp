#include "cgroups/cgroups.hpp"

namespace berth::cgroups {
// Placeholder translation unit; the cgroups work fills this in.
} // namespace berth::cgroups
