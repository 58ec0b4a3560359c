#include <string.h>
#include "base/result.hpp"

namespace berth {

std::string Error::message() const
{
    if (code == 0 || bad_input)
        return context;
    // strerror's buffer for an unknown code is shared by every thread (MT-Unsafe race:strerror):
    // the GNU strerror_r returns either a constant string or its text in our own buffer.
    char buffer[128];
    return cat(context, ": ", ::strerror_r(code, buffer, sizeof buffer));
}

} // namespace berth
