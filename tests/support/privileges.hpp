// tests/support/privileges.hpp — preconditions that privileged tests carry, so an ordinary user
// sees "skipped: needs root" instead of a failure.
#pragma once
#include <unistd.h>
#include <boost/test/unit_test.hpp>

namespace berth::test {

inline boost::test_tools::assertion_result is_root(boost::unit_test::test_unit_id)
{
    boost::test_tools::assertion_result result(::geteuid() == 0);
    result.message() << "needs root";
    return result;
}

} // namespace berth::test
