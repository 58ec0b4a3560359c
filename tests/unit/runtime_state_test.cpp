// tests/unit/runtime_state_test.cpp — the runtime's state store without root: state.json
// round trip and strict parsing, container id rules, /proc/<pid>/stat start time, status
// derivation and the OCI state JSON.
#define BOOST_TEST_MODULE runtime_state
#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <fstream>
#include <filesystem>
#include <unistd.h>
#include <nlohmann/json.hpp>
#include "runtime/internal.hpp"

namespace rt = berth::runtime;
namespace store = berth::runtime::store;

namespace {

store::Record sample()
{
    store::Record r;
    r.oci_version = "1.0.2";
    r.id = "web-1";
    r.pid = 4242;
    r.start_time = 987654;
    r.bundle = "/srv/bundle";
    r.rootfs = "/srv/bundle/rootfs";
    r.created_ns = 1700000000123456789;
    r.cgroup_path = "/berth/web-1";
    r.cgroup = {true, {"/sys/fs/cgroup/memory/berth", "/sys/fs/cgroup/memory/berth/web-1"}};
    r.annotations = {{"org.example/key", "value"}};
    return r;
}

std::string with(const std::string& key, const nlohmann::json& value)
{
    auto j = nlohmann::json::parse(store::serialize_state(sample()));
    j[key] = value;
    return j.dump();
}

} // namespace

BOOST_AUTO_TEST_SUITE(state_file)

BOOST_AUTO_TEST_CASE(serialized_state_parses_back_to_the_same_record)
{
    auto parsed = store::parse_state_file(store::serialize_state(sample()));
    BOOST_TEST_REQUIRE(parsed.has_value());
    BOOST_TEST(parsed->id == "web-1");
    BOOST_TEST(parsed->pid == 4242);
    BOOST_TEST(parsed->start_time == 987654u);
    BOOST_TEST(parsed->bundle == "/srv/bundle");
    BOOST_TEST(parsed->rootfs == "/srv/bundle/rootfs");
    BOOST_TEST(parsed->created_ns == 1700000000123456789);
    BOOST_TEST(parsed->cgroup_path == "/berth/web-1");
    BOOST_TEST(parsed->cgroup.created);
    BOOST_TEST(parsed->cgroup.made == sample().cgroup.made);
    BOOST_TEST(parsed->annotations.at("org.example/key") == "value");
}

BOOST_AUTO_TEST_CASE(cgroup_ownership_is_optional_and_made_dirs_stay_below_sys_fs_cgroup)
{
    auto j = nlohmann::json::parse(store::serialize_state(sample()));
    j.erase("cgroupCreated");
    j.erase("cgroupMade");
    auto old = store::parse_state_file(j.dump()); // written before ownership was recorded
    BOOST_TEST_REQUIRE(old.has_value());
    BOOST_TEST(!old->cgroup.created); // adopted: nothing of it is killed or removed
    BOOST_TEST(old->cgroup.made.empty());
    for (const char* bad : {"/etc", "/sys/fs/cgroup", "/sys/fs/cgroup/../../etc", "relative"}) {
        auto parsed = store::parse_state_file(with("cgroupMade", {bad}));
        BOOST_TEST_REQUIRE(!parsed.has_value(), bad);
        BOOST_TEST(parsed.error().message().find("cgroupMade") != std::string::npos);
    }
    BOOST_TEST(!store::parse_state_file(with("cgroupCreated", "yes")).has_value());
}

// start and delete parse config.json only when the state says there are hooks to run.
BOOST_AUTO_TEST_CASE(which_hooks_exist_is_kept_in_the_state_and_optional)
{
    auto record = sample();
    record.hooks = store::Record::Hooks{false, true};
    auto parsed = store::parse_state_file(store::serialize_state(record));
    BOOST_TEST_REQUIRE(parsed.has_value());
    BOOST_TEST_REQUIRE(parsed->hooks.has_value());
    BOOST_TEST(!parsed->hooks->poststart);
    BOOST_TEST(parsed->hooks->poststop);
    auto old = store::parse_state_file(store::serialize_state(sample())); // before it was kept
    BOOST_TEST_REQUIRE(old.has_value());
    BOOST_TEST(!old->hooks.has_value());
    for (const auto& bad : {nlohmann::json("yes"), nlohmann::json{{"poststart", true}},
                            nlohmann::json{{"poststart", 1}, {"poststop", false}},
                            nlohmann::json{{"poststart", true}, {"poststop", false}, {"x", 1}}}) {
        auto refused = store::parse_state_file(with("hooks", bad));
        BOOST_TEST_REQUIRE(!refused.has_value(), bad.dump());
        BOOST_TEST(refused.error().message().find("hooks") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(unknown_keys_are_refused_by_name)
{
    auto parsed = store::parse_state_file(with("surprise", 1));
    BOOST_TEST_REQUIRE(!parsed.has_value());
    BOOST_TEST(parsed.error().message().find("unknown key 'surprise'") != std::string::npos,
               parsed.error().message());
}

BOOST_AUTO_TEST_CASE(wrong_types_and_ranges_name_the_field)
{
    auto negative = store::parse_state_file(with("pid", -5));
    BOOST_TEST_REQUIRE(!negative.has_value());
    BOOST_TEST(negative.error().message() == "state: pid: out of range");
    auto huge = store::parse_state_file(with("pid", 1ull << 40));
    BOOST_TEST(!huge.has_value());
    auto text = store::parse_state_file(with("startTime", "12"));
    BOOST_TEST_REQUIRE(!text.has_value());
    BOOST_TEST(text.error().message() == "state: startTime: not an integer");
    auto relative = store::parse_state_file(with("bundle", "srv/bundle"));
    BOOST_TEST_REQUIRE(!relative.has_value());
    BOOST_TEST(relative.error().message().find("bundle: not an absolute path") !=
               std::string::npos);
    auto bad_id = store::parse_state_file(with("id", "../etc"));
    BOOST_TEST(!bad_id.has_value());
    auto bad_annotation = store::parse_state_file(with("annotations", {{"k", 1}}));
    BOOST_TEST(!bad_annotation.has_value());
}

BOOST_AUTO_TEST_CASE(garbage_truncation_and_missing_keys_are_errors_not_crashes)
{
    const auto good = store::serialize_state(sample());
    for (std::size_t n = 0; n < good.size(); n += 7)
        BOOST_TEST(!store::parse_state_file(good.substr(0, n)).has_value());
    BOOST_TEST(!store::parse_state_file("[]").has_value());
    BOOST_TEST(!store::parse_state_file(std::string(100, '[')).has_value());
    auto j = nlohmann::json::parse(good);
    j.erase("rootfs");
    auto missing = store::parse_state_file(j.dump());
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST(missing.error().message() == "state: missing key 'rootfs'");
    BOOST_TEST(!store::parse_state_file(std::string(store::max_state_bytes + 1, ' ')).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(container_id)

BOOST_AUTO_TEST_CASE(runc_rule_is_enforced)
{
    for (const char* ok : {"a", "web-1", "A_b.c+d-e", "123"})
        BOOST_TEST(store::check_id(ok).has_value(), ok);
    for (const char* bad : {"", ".", "..", "a/b", "../x", "a b", "a\nb", "é", "a:b"})
        BOOST_TEST(!store::check_id(bad).has_value(), bad);
    BOOST_TEST(!store::check_id(std::string(1025, 'a')).has_value());
    BOOST_TEST(store::check_id("a/b").error().message().find("'a/b'") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(proc_stat)

BOOST_AUTO_TEST_CASE(start_time_is_field_22_even_with_spaces_in_comm)
{
    const std::string stat = "1234 (we ird) name)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 "
                             "20 0 1 0 556677 1000000 100 18446744073709551615";
    auto start = store::parse_stat_start_time(stat);
    BOOST_TEST_REQUIRE(start.has_value());
    BOOST_TEST(*start == 556677u);
}

BOOST_AUTO_TEST_CASE(short_or_broken_stat_is_an_error)
{
    BOOST_TEST(!store::parse_stat_start_time("").has_value());
    BOOST_TEST(!store::parse_stat_start_time("1 (x) S 1 2 3").has_value());
    BOOST_TEST(!store::parse_stat_start_time("1 x S").has_value());
}

BOOST_AUTO_TEST_CASE(own_process_has_a_start_time)
{
    BOOST_TEST(store::process_start_time(::getpid()).has_value());
    BOOST_TEST(store::process_start_time(0).error().code == ESRCH);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(status)

BOOST_AUTO_TEST_CASE(status_follows_process_fifo_and_freezer)
{
    const auto r = sample();
    store::Observed gone;
    BOOST_TEST((store::derive_status(r, gone) == rt::Status::Stopped));
    store::Observed reused{123, false, false}; // same pid, another start time: not ours
    BOOST_TEST((store::derive_status(r, reused) == rt::Status::Stopped));
    store::Observed created{r.start_time, true, false};
    BOOST_TEST((store::derive_status(r, created) == rt::Status::Created));
    store::Observed paused{r.start_time, false, true};
    BOOST_TEST((store::derive_status(r, paused) == rt::Status::Paused));
    store::Observed running{r.start_time, false, false};
    BOOST_TEST((store::derive_status(r, running) == rt::Status::Running));
}

BOOST_AUTO_TEST_CASE(oci_state_json_has_the_spec_fields)
{
    auto state = store::to_state(sample(), rt::Status::Running);
    const auto j = nlohmann::json::parse(rt::state_to_json(state));
    BOOST_TEST(j["ociVersion"] == "1.0.2");
    BOOST_TEST(j["id"] == "web-1");
    BOOST_TEST(j["status"] == "running");
    BOOST_TEST(j["pid"] == 4242);
    BOOST_TEST(j["bundle"] == "/srv/bundle");
    BOOST_TEST(j["created"] == "2023-11-14T22:13:20.123456789Z");
    BOOST_TEST(j["annotations"]["org.example/key"] == "value");
    auto stopped = store::to_state(sample(), rt::Status::Stopped);
    BOOST_TEST(stopped.pid == 0);
    BOOST_TEST(rt::status_name(rt::Status::Paused) == "paused");
}

BOOST_AUTO_TEST_SUITE_END()

// exec-<pid>.json (runtime/exec_marker.hpp): what a restarted supervisor re-adopts an exec'd
// process by. Read back strictly: every malformed field is named; a missing file is no marker.
BOOST_AUTO_TEST_SUITE(exec_markers)

struct MarkerDir {
    std::string root;
    rt::Options options;
    MarkerDir()
    {
        char tmpl[] = "/tmp/berth-marker-XXXXXX";
        root = ::mkdtemp(tmpl);
        options.root = root;
        std::filesystem::create_directories(root + "/c1");
    }
    ~MarkerDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(root, ec);
    }
    MarkerDir(const MarkerDir&) = delete;
    MarkerDir& operator=(const MarkerDir&) = delete;
    std::string put(const std::string& name, const std::string& text) const
    {
        auto path = root + "/c1/" + name;
        std::ofstream(path) << text;
        return path;
    }
};

BOOST_FIXTURE_TEST_CASE(a_marker_of_this_process_reads_back_and_opens_it, MarkerDir)
{
    BOOST_TEST_REQUIRE(rt::write_exec_marker(options, "c1", ::getpid()).has_value());
    auto marker = rt::read_exec_marker(rt::exec_marker_path(options, "c1", ::getpid()));
    BOOST_TEST_REQUIRE(marker.has_value());
    BOOST_TEST_REQUIRE(marker->has_value());
    BOOST_TEST((*marker)->pid == ::getpid());
    BOOST_TEST(rt::open_marked(**marker).has_value());
    auto reused = **marker; // the same pid with another start time: a reused pid, not ours
    reused.start_time += 1;
    auto gone = rt::open_marked(reused);
    BOOST_TEST_REQUIRE(!gone.has_value());
    BOOST_TEST(gone.error().code == ESRCH);
    auto other_boot = **marker;
    other_boot.boot_id = "another-boot";
    BOOST_TEST(!rt::open_marked(other_boot).has_value());
}

BOOST_FIXTURE_TEST_CASE(a_missing_marker_is_none_and_malformed_ones_name_the_field, MarkerDir)
{
    auto none = rt::read_exec_marker(root + "/c1/exec-7.json");
    BOOST_TEST_REQUIRE(none.has_value());
    BOOST_TEST(!none->has_value());
    const std::pair<std::string, std::string> bad[] = {
        {"not json", "not a JSON object"},
        {R"({"pid":0,"startTime":1,"bootId":"b"})", "pid"},
        {R"({"pid":"7","startTime":1,"bootId":"b"})", "pid"},
        {R"({"pid":7,"startTime":-1,"bootId":"b"})", "startTime"},
        {R"({"pid":7,"bootId":"b"})", "startTime"},
        {R"({"pid":7,"startTime":1,"bootId":7})", "bootId"},
        {R"({"pid":7,"startTime":1,"bootId":")" + std::string(65, 'x') + "\"}", "bootId"},
    };
    for (const auto& [text, field] : bad) {
        auto r = rt::read_exec_marker(put("exec-7.json", text));
        BOOST_TEST_REQUIRE(!r.has_value(), text);
        BOOST_TEST(r.error().code == EINVAL);
        BOOST_TEST(r.error().message().find(field) != std::string::npos, r.error().message());
    }
}

BOOST_FIXTURE_TEST_CASE(only_exec_pid_json_names_count_as_markers, MarkerDir)
{
    for (const char* name : {"exec-12.json", "exec-3.json", "exec-012.json", "exec-.json",
                             "exec-1x.json", "exit-5.json", "exec-9.json.tmp", "state.json"})
        put(name, "{}");
    auto pids = rt::exec_marker_pids(options, "c1");
    BOOST_TEST_REQUIRE(pids.has_value());
    BOOST_TEST((*pids == std::vector<pid_t>{3, 12}));
    BOOST_TEST(!rt::exec_marker_pids(options, "missing").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
