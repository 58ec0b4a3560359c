// agent/berthd/main.cpp — berthd, the node agent. Flags, then the environment, then the
// configuration file (flags beat environment beats file); the Daemon (agent/daemon) with the
// ECS-compatible API server on it; sd_notify READY=1 once the listener is open and restore is
// done. SIGTERM/SIGINT stop the loop and berthd exits 0, leaving every task running (the
// supervisor keeps reaping and logging them) unless BERTH_STOP_TASKS_ON_SHUTDOWN; SIGHUP reloads
// the configuration; the watchdog and the journal under systemd (lifecycle.cpp, journal.cpp).
// Never daemonizes itself (systemd Type=notify).
#include <malloc.h>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include "agent/berthd/berthd.hpp"
#include "agent/daemon/daemon.hpp"
#include "base/log.hpp"
#include "base/strings.hpp"

namespace {

using namespace berth;

constexpr const char* usage =
    "usage: berthd [--config PATH] [--state-dir DIR] [--runtime-dir DIR]\n"
    "              [--api-listen HOST:PORT] [--introspection-listen HOST:PORT]\n"
    "              [--metadata-listen IPV4:PORT] [--cgroup-root PATH] [--bridge NAME]\n"
    "              [--subnet CIDR] [--foreground]\n"
    "The node agent: runs ECS task definitions and serves the ECS API (docs/CONFIGURATION.md).\n"
    "The configuration file is --config, else $BERTH_CONFIG, else /etc/berth/berth.conf.\n";

struct Flags {
    std::string config_path = config::default_path;
    bool config_given = false;
    config::Environment overrides; // flags, as the keys they set
};

// Flag -> the configuration key it sets.
constexpr std::pair<std::string_view, std::string_view> flag_keys[] = {
    {"--state-dir", "BERTH_STATE_DIR"},
    {"--runtime-dir", "BERTH_RUNTIME_DIR"},
    {"--api-listen", "BERTH_API_LISTEN"},
    {"--introspection-listen", "BERTH_INTROSPECTION_LISTEN"},
    {"--metadata-listen", "BERTH_METADATA_LISTEN"},
    {"--cgroup-root", "BERTH_CGROUP_ROOT"},
    {"--bridge", "BERTH_BRIDGE"},
    {"--subnet", "BERTH_SUBNET"},
};

Result<Flags> parse_flags(int argc, char** argv)
{
    Flags f;
    // The file's path from the environment (a flag still wins), so that every path berthd uses
    // can be moved both ways; it is not a key: the file cannot name itself.
    if (const char* path = std::getenv("BERTH_CONFIG");
        path && *path) { // NOLINT(concurrency-mt-unsafe): no thread yet
        f.config_path = path;
        f.config_given = true;
    }
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg =
            argv[i]; // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
        if (arg == "--foreground")
            continue; // always: berthd never daemonizes itself
        if (arg == "--help" || arg == "-h") {
            std::fputs(usage, stdout);
            std::exit(0); // NOLINT(concurrency-mt-unsafe): no thread yet
        }
        if (arg == "--version") {
            std::puts("berthd " BERTH_VERSION);
            std::exit(0); // NOLINT(concurrency-mt-unsafe): no thread yet
        }
        const auto eq = arg.find('=');
        const auto name = arg.substr(0, eq);
        std::string value;
        if (eq != std::string_view::npos)
            value = std::string(arg.substr(eq + 1));
        else if (i + 1 < argc)
            value = argv[++i]; // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
        else
            return Error::invalid(name, ": a value is required");
        if (name == "--config") {
            f.config_path = value;
            f.config_given = true;
            continue;
        }
        bool known = false;
        for (const auto& [flag, key] : flag_keys)
            if (name == flag) {
                f.overrides[std::string(key)] = value;
                known = true;
            }
        if (!known)
            return Error::invalid(quoted(name), ": unknown flag (berthd --help)");
    }
    return f;
}

// "HOST:PORT", already checked by the configuration loader.
std::pair<std::string, std::uint16_t> split_listen(const std::string& listen)
{
    const auto colon = listen.rfind(':');
    return {listen.substr(0, colon),
            static_cast<std::uint16_t>(std::stoul(listen.substr(colon + 1)))};
}

Result<api::Options> api_options(const config::Config& c, const std::string& account_id)
{
    api::Options o;
    std::tie(o.address, o.port) = split_listen(c.api_listen);
    o.unix_socket = c.runtime_dir + "/berthd.sock"; // the berth CLI's way in (root only)
    o.region = c.region;
    o.account_id = account_id;
    o.cluster = c.cluster;
    auto credentials = berthd::api_credentials(c);
    if (!credentials)
        return std::move(credentials).error();
    o.credentials = std::move(*credentials);
    return o;
}

Result<std::unique_ptr<api::MetadataServer>>
start_metadata(const config::Config& c, const std::string& key, daemon::Daemon& node)
{
    api::MetadataOptions options;
    std::tie(options.address, options.port) = split_listen(c.metadata_listen);
    auto db = store::Store::open(c.state_dir + "/berth.db"); // its own connection, its thread
    if (!db)
        return std::move(db).error().wrap("open the store for the metadata server");
    return api::MetadataServer::start(options, node.node_info(), key, node, std::move(*db));
}

int fail(const Error& error, std::string_view what)
{
    log::error(error, what);
    return 1;
}

int run_berthd(int argc, char** argv, char** envp)
{
    berthd::run_without_thread_caches(argv);
    berthd::configure_malloc();
    auto flags = parse_flags(argc, argv);
    if (!flags) {
        std::fprintf(stderr, "berthd: %s\n%s", flags.error().message().c_str(), usage);
        return 2;
    }
    if (berthd::stderr_is_journal())
        berthd::log_to_journal();
    berthd::ReloadSource source{flags->config_path, config::environment_from(envp),
                                flags->config_given};
    for (const auto& [key, value] : flags->overrides)
        source.env[key] = value; // flags beat the environment
    auto config = config::load(source.path, source.env, source.must_exist);
    if (!config)
        return fail(config.error(), "cannot load the configuration");
    log::set_level(config->log_level);
    const sigset_t signals = berthd::block_signals();
    // SIGPIPE: a client that went away is an error on its socket, not death.
    std::signal(SIGPIPE, SIG_IGN);

    // The node key of the containers' metadata ids (ECS_CONTAINER_METADATA_URI_V4), kept in the
    // state dir so the ids of running containers survive a restart.
    auto metadata_key = api::load_metadata_key(config->state_dir + "/metadata.key");
    if (!metadata_key)
        return fail(metadata_key.error(), "cannot load the task metadata key");
    daemon::Options options;
    options.config = *config;
    options.metadata_key = *metadata_key;
    options.on_idle = berthd::return_freed_memory;
    auto node = daemon::Daemon::open(std::move(options));
    if (!node)
        return fail(node.error(), "cannot start the node");
    auto api = api_options(*config, "000000000000");
    if (!api)
        return fail(api.error(), "cannot configure the API");
    auto db = store::Store::open(config->state_dir + "/berth.db");
    if (!db)
        return fail(db.error(), "cannot open the store for the API");
    auto server = api::Server::start(std::move(*api), std::move(*db), node->get());
    if (!server)
        return fail(server.error(), "cannot start the API server");
    api::IntrospectionOptions introspection;
    std::tie(introspection.address, introspection.port) =
        split_listen(config->introspection_listen);
    auto introspection_server =
        api::IntrospectionServer::start(introspection, (*node)->node_info(), **node);
    if (!introspection_server)
        return fail(introspection_server.error(), "cannot start the introspection server");
    auto metadata_server = start_metadata(*config, *metadata_key, **node);
    if (!metadata_server)
        return fail(metadata_server.error(), "cannot start the task metadata server");
    log::info("berthd ready",
              {{"api", config->api_listen},
               {"introspection", config->introspection_listen},
               {"metadata", config->metadata_listen},
               {"socket", config->runtime_dir + "/berthd.sock"},
               {"state_dir", config->state_dir},
               {"container_instance", (*node)->node_info().container_instance_arn}});
    std::thread waiter([&] {
        berthd::serve_signals(signals, source, config->stop_tasks_on_shutdown, **node, [&] {
            (*server)->stop();
            (*introspection_server)->stop();
        });
    });
    // Start-up (configuration, restore, the stores, the servers) leaves freed heap that glibc
    // keeps for reuse; an idle node would hold it for ever (about 0.5 MB; docs/BENCHMARKS.md).
    ::malloc_trim(0);
    berthd::start_watchdog(**node);
    berthd::notify_manager("READY=1");
    (*node)->run();
    (*metadata_server)->stop();
    (*introspection_server)->stop();
    (*server)->stop();
    waiter.join();
    return 0;
}

} // namespace

int main(int argc, char** argv, char** envp)
{
    try {
        return run_berthd(argc, argv, envp);
    } catch (const std::exception& e) { // bad_alloc, or a library's throw we did not expect
        std::fprintf(stderr, "berthd: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "berthd: unknown exception\n");
    }
    return 1;
}
