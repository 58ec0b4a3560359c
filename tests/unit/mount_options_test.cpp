// tests/unit/mount_options_test.cpp — parse_mount_options: flags, opposites, propagation,
// recursive attributes, data, and the conflicts it reports.
#define BOOST_TEST_MODULE mount_options
#include <sys/mount.h>
#include <boost/test/unit_test.hpp>
#include "runtime/spec.hpp"

using berth::runtime::MountOptions;
using berth::runtime::parse_mount_options;

namespace {

MountOptions parse(const std::vector<std::string>& options)
{
    auto parsed = parse_mount_options(options);
    BOOST_TEST_REQUIRE(parsed.has_value(), (parsed ? "" : parsed.error().context));
    return *parsed;
}

std::string rejection(const std::vector<std::string>& options)
{
    auto parsed = parse_mount_options(options);
    return parsed ? "(accepted)" : parsed.error().context;
}

} // namespace

BOOST_AUTO_TEST_CASE(flag_words_set_and_clear_mount_flags)
{
    auto o = parse({"ro", "nosuid", "nodev", "noexec", "sync", "dirsync", "mand", "noatime",
                    "nodiratime", "lazytime", "iversion", "silent", "nosymfollow", "acl"});
    BOOST_TEST(o.flags == (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS |
                           MS_DIRSYNC | MS_MANDLOCK | MS_NOATIME | MS_NODIRATIME | MS_LAZYTIME |
                           MS_I_VERSION | MS_SILENT | 256ul | MS_POSIXACL));
    BOOST_TEST(o.clear_flags == 0ul);
    BOOST_TEST(o.data.empty());
    auto opposite = parse({"rw", "suid", "dev", "exec", "async", "nomand", "atime", "diratime",
                           "norelatime", "nostrictatime"});
    BOOST_TEST(opposite.flags == 0ul);
    BOOST_TEST(opposite.clear_flags ==
               (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS | MS_MANDLOCK |
                MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME));
    BOOST_TEST(parse({"relatime"}).flags == static_cast<unsigned long>(MS_RELATIME));
    BOOST_TEST(parse({"strictatime"}).flags == static_cast<unsigned long>(MS_STRICTATIME));
    BOOST_TEST(parse({"remount", "ro"}).flags == (MS_REMOUNT | MS_RDONLY));
    BOOST_TEST(parse({"defaults"}).flags == 0ul);
}

BOOST_AUTO_TEST_CASE(bind_and_rbind_set_bind_and_recursion)
{
    auto bind = parse({"bind"});
    BOOST_TEST(bind.bind);
    BOOST_TEST(!bind.recursive);
    BOOST_TEST(bind.flags == 0ul); // MS_BIND is the launch code's business, from .bind
    auto rbind = parse({"rbind", "ro"});
    BOOST_TEST(rbind.bind);
    BOOST_TEST(rbind.recursive);
    BOOST_TEST(rbind.flags == static_cast<unsigned long>(MS_RDONLY));
}

BOOST_AUTO_TEST_CASE(propagation_words_are_kept_in_order)
{
    auto o = parse({"rbind", "rslave", "private", "shared", "rshared", "slave", "unbindable",
                    "runbindable", "rprivate"});
    BOOST_TEST(o.propagation ==
               (std::vector<unsigned long>{MS_SLAVE | MS_REC, MS_PRIVATE, MS_SHARED,
                                           MS_SHARED | MS_REC, MS_SLAVE, MS_UNBINDABLE,
                                           MS_UNBINDABLE | MS_REC, MS_PRIVATE | MS_REC}));
    BOOST_TEST(o.flags == 0ul);
}

BOOST_AUTO_TEST_CASE(recursive_attributes_map_to_mount_attr_bits)
{
    auto o = parse({"rbind", "rro", "rnosuid", "rnodev", "rnoexec"});
    BOOST_TEST(o.recursive_readonly);
    BOOST_TEST(o.recursive);
    BOOST_TEST(o.recursive_attr_set == 0xfu); // RDONLY|NOSUID|NODEV|NOEXEC
    BOOST_TEST(o.recursive_attr_clear == 0u);
    auto atime = parse({"rnoatime"});
    BOOST_TEST(atime.recursive_attr_set == 0x10u);
    BOOST_TEST(atime.recursive_attr_clear == 0x70u); // the whole atime field is replaced
    auto relatime = parse({"rrelatime"});
    BOOST_TEST(relatime.recursive_attr_set == 0u);
    BOOST_TEST(relatime.recursive_attr_clear == 0x70u);
    auto cleared = parse({"rrw", "rsuid", "rsymfollow"});
    BOOST_TEST(!cleared.recursive_readonly);
    BOOST_TEST(cleared.recursive_attr_clear == (0x1u | 0x2u | 0x200000u));
}

BOOST_AUTO_TEST_CASE(unknown_words_become_filesystem_data_in_order)
{
    auto o = parse({"nosuid", "mode=755", "size=65536k", "newinstance", "context=\"a,b\""});
    BOOST_TEST(o.flags == static_cast<unsigned long>(MS_NOSUID));
    BOOST_TEST(o.data == "mode=755,size=65536k,newinstance,context=\"a,b\"");
}

BOOST_AUTO_TEST_CASE(tmpcopyup_is_an_extension_not_data)
{
    auto o = parse({"tmpcopyup", "size=1m"});
    BOOST_TEST(o.tmpcopyup);
    BOOST_TEST(o.data == "size=1m");
}

BOOST_AUTO_TEST_CASE(contradicting_words_are_reported)
{
    BOOST_TEST(rejection({"ro", "rw"}) == "options 'ro' and 'rw' conflict");
    BOOST_TEST(rejection({"nosuid", "exec", "suid"}) == "options 'nosuid' and 'suid' conflict");
    BOOST_TEST(rejection({"noatime", "strictatime"}) ==
               "options 'noatime' and 'strictatime' conflict");
    BOOST_TEST(rejection({"relatime", "noatime"}) == "options 'noatime' and 'relatime' conflict");
    BOOST_TEST(rejection({"rro", "rrw"}) == "options 'rro' and 'rrw' conflict");
    BOOST_TEST(rejection({"rnoatime", "rrelatime"}) ==
               "options 'rnoatime' and 'rrelatime' conflict");
    BOOST_TEST(rejection({"tmpcopyup", "remount"}) == "options 'tmpcopyup' and 'remount' conflict");
    BOOST_TEST(rejection({"nodev", ""}) == "empty mount option");
    BOOST_TEST(rejection({std::string("mode=7\0", 7)}) ==
               "mount option 'mode=7\\x00' contains a NUL byte");
    BOOST_TEST(rejection({"ro", "ro"}) == "(accepted)"); // repeating a word is harmless
}

BOOST_AUTO_TEST_CASE(long_option_lists_stay_fast)
{
    std::vector<std::string> many(200000, "x=1");
    many.emplace_back("ro");
    auto o = parse(many);
    BOOST_TEST(o.flags == static_cast<unsigned long>(MS_RDONLY));
}
