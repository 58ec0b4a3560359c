// tests/support/namespaces.hpp — the whole test process in namespaces of its own, for the root
// tests that make network namespaces, bridges, bind mounts or listening sockets (net_*, image_*):
// nothing they make can reach the host's links, routes, nftables or mount table, and all of it
// ends with the process even if the process aborts. Used as a Boost global fixture:
//     using berth::test::PrivateNamespaces;
//     BOOST_TEST_GLOBAL_FIXTURE(PrivateNamespaces);
#pragma once

namespace berth::test {

// unshare(CLONE_NEWNET | CLONE_NEWNS), / made private (recursively), lo up. A failure aborts
// the process: these tests must never run in the host's namespaces. Not root: does nothing
// (the tests carry the is_root precondition and are skipped).
void enter_private_namespaces(bool private_tmp);

struct PrivateNamespaces {
    PrivateNamespaces() { enter_private_namespaces(false); }
};
// The same and a private tmpfs on /tmp, so run directories vanish with the process.
struct PrivateNamespacesAndTmp {
    PrivateNamespacesAndTmp() { enter_private_namespaces(true); }
};

} // namespace berth::test
