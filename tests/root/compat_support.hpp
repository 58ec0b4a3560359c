// tests/root/compat_support.hpp — runs one bundle under runc and, once it is built, under
// berth-runtime, and checks both the explicit expectation and that both saw the same thing.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <boost/test/unit_test.hpp>
#include "tests/support/bundle.hpp"
#include "tests/support/runner.hpp"

namespace berth::test {

struct Seen {
    Output runc;
    std::optional<Output> berth; // absent only when berth-runtime was not found (a failure)
};

// A compat check that ran only runc compared nothing: berth-runtime missing is a failure.
inline void fail_berth_missing()
{
    BOOST_ERROR("berth-runtime not found (no $BERTH_RUNTIME, no $BERTH_BUILD_ROOT/runtime/cli/"
                "berth-runtime): only runc was checked");
}

// Checks that a run left nothing behind: no cgroup directory, an empty state root.
inline void expect_clean(const Runtime& runtime, const Bundle& bundle)
{
    BOOST_TEST_CONTEXT("runtime " << runtime.name())
    {
        BOOST_TEST(!cgroup_exists(bundle.cgroups_path()), "cgroup left: " << bundle.cgroups_path());
        BOOST_TEST(list_dir(runtime.root()).empty(), "state root not empty: " << runtime.root());
    }
}

// Writes config.json and runs it under both runtimes, one after the other.
inline Seen run_both(const Bundle& bundle)
{
    bundle.write();
    Seen seen;
    {
        auto runc = runc_runtime();
        seen.runc = runc.run(bundle);
        expect_clean(runc, bundle);
    }
    if (auto path = berth_runtime_path()) {
        Runtime berth("berth-runtime", *path);
        seen.berth = berth.run(bundle);
        expect_clean(berth, bundle);
    } else {
        fail_berth_missing();
    }
    return seen;
}

// The expectation holds for each runtime, and berth's normalized output equals runc's.
inline void expect_both(
    const Seen& seen, const std::function<void(const Output&)>& expect,
    const std::function<std::string(const std::string&)>& normalize = [](const std::string& text) {
        return text;
    })
{
    BOOST_TEST_CONTEXT("runc; stdout:\n" << seen.runc.out << "stderr:\n" << seen.runc.err)
    {
        expect(seen.runc);
    }
    if (!seen.berth)
        return;
    BOOST_TEST_CONTEXT("berth-runtime; stdout:\n"
                       << seen.berth->out << "stderr:\n"
                       << seen.berth->err)
    {
        expect(*seen.berth);
        BOOST_TEST(normalize(seen.berth->out) == normalize(seen.runc.out));
        BOOST_TEST(seen.berth->status == seen.runc.status);
    }
}

inline bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

} // namespace berth::test
