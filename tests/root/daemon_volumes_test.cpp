#define BOOST_TEST_MODULE daemon_volumes
// Shared docker volumes (dockerVolumeConfiguration scope "shared") through berthd, as a child
// process in the namespaces this test made, driven by the real aws CLI (issue 17): with
// autoprovision false (ECS's default) the volume must exist already, else the task fails at
// provisioning, STOPPED with a reason naming the volume and nothing made for it; one an earlier
// task made with autoprovision true is used, its files there, and outlives both tasks.
#include "base/strings.hpp"
#include "tests/root/daemon_support.hpp"

using namespace berth;
using namespace berth::test;
using namespace berth::test::daemon;

namespace {

// Its own names, port and subnet, apart from the other daemon tests'.
const Site volumes{"volumes", 18710, "10.213.80.0/24"};

// One container running `script` with the shared volume `volume` (autoprovision as given, or
// absent) at /data.
json shared_volume_definition(const std::string& family, const std::string& volume,
                              std::optional<bool> autoprovision, const std::string& script)
{
    json docker = {{"scope", "shared"}, {"driver", "local"}};
    if (autoprovision)
        docker["autoprovision"] = *autoprovision;
    return {{"family", family},
            {"networkMode", "none"},
            {"volumes", {{{"name", volume}, {"dockerVolumeConfiguration", docker}}}},
            {"containerDefinitions",
             {{{"name", "main"},
               {"image", "berth.local/hello:latest"},
               {"memory", 32},
               {"entryPoint", {"/bin/sh", "-c"}},
               {"command", {script}},
               {"mountPoints", {{{"sourceVolume", volume}, {"containerPath", "/data"}}}}}}}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(berthd_shared_volumes, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(a_missing_shared_volume_without_autoprovision_fails_the_task_naming_it)
{
    Node node(volumes);
    // autoprovision absent is false, as in ECS; both must find the volume made already.
    for (const auto& autoprovision : {std::optional<bool>(false), std::optional<bool>()}) {
        node.register_definition(
            shared_volume_definition("novolume", "nosuchvolume", autoprovision, "exit 0"));
        const auto arn = node.run_task("novolume");
        const auto stopped = node.wait_status(arn, "STOPPED");
        const std::string reason = stopped.value("stoppedReason", "");
        BOOST_TEST(reason.find("ResourceInitializationError") == 0U, stopped.dump());
        BOOST_TEST(reason.find("\"nosuchvolume\"") != std::string::npos, stopped.dump());
        BOOST_TEST(reason.find("autoprovision false") != std::string::npos, stopped.dump());
        BOOST_TEST(stopped["stopCode"] == "TaskFailedToStart", stopped.dump());
        BOOST_TEST(!stopped["containers"][0].contains("exitCode"), stopped.dump()); // never ran
    }
    BOOST_TEST(!fs::exists(node.state + "/volumes/shared/nosuchvolume")); // not made
    node.expect_nothing_left();
    node.expect_no_image_leases();
}

BOOST_AUTO_TEST_CASE(a_shared_volume_an_earlier_task_autoprovisioned_is_used_without_it)
{
    Node node(volumes);
    node.register_definition(shared_volume_definition("maker", "kept", true,
                                                      "echo made-by-the-first-task > /data/note"));
    const auto first = node.run_task("maker");
    const auto made = node.wait_status(first, "STOPPED");
    BOOST_TEST(made["containers"][0].value("exitCode", -1) == 0, made.dump());
    // The second only reads it: its exit status says whether the first one's file was there.
    node.register_definition(shared_volume_definition(
        "user", "kept", false, "test \"$(cat /data/note)\" = made-by-the-first-task"));
    const auto second = node.run_task("user");
    const auto used = node.wait_status(second, "STOPPED");
    BOOST_TEST(used["containers"][0].value("exitCode", -1) == 0, used.dump());
    BOOST_TEST(used["stopCode"] == "EssentialContainerExited", used.dump());
    node.expect_nothing_left();
    // Shared: it outlives the tasks that used it (their cleanup ran: nothing left above).
    BOOST_TEST(read_all(node.state + "/volumes/shared/kept/note") == "made-by-the-first-task\n");
}

BOOST_AUTO_TEST_SUITE_END()
