#include <cstring>
#include "base/result.hpp"

namespace berth {

std::string Error::message() const
{
    if (code == 0 || bad_input)
        return context;
    return cat(context, ": ", std::strerror(code));
}

} // namespace berth
