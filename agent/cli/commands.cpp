// agent/cli/commands.cpp — berth pull, images, rmi, inspect. Errors go to stderr once, with the
// library's full context ("pull docker.io/library/x:1: layer sha256:...: ...").
#include <unistd.h>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include "agent/cli/cli.hpp"

namespace berth::cli {
namespace {

int fail(const Error& e)
{
    std::fprintf(stderr, "berth: %s\n", e.message().c_str());
    return 1;
}

int usage(const char* text)
{
    std::fprintf(stderr, "usage: berth %s\n", text);
    return 2;
}

nlohmann::json to_json(const image::ImageRecord& r)
{
    return {{"reference", r.reference},  {"manifest", r.manifest_digest},
            {"config", r.config_digest}, {"layers", r.layers},
            {"chain", r.chain},          {"size", r.size},
            {"created", r.created}};
}

Result<image::Store> open_store(const Globals& g)
{
    return image::Store::open(g.image_root());
}

} // namespace

int cmd_pull(const Globals& g, const std::vector<std::string>& args)
{
    image::PullOptions options;
    std::string name;
    std::vector<std::string> mirrors;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        const bool has_value = i + 1 < args.size();
        if (a == "--platform" && has_value) {
            auto p = image::parse_platform(args[++i]);
            if (!p)
                return fail(p.error());
            options.platform = *p;
        } else if (a == "--plain-http" && has_value) {
            options.plain_http.push_back(args[++i]);
        } else if (a == "--creds" && has_value) {
            const auto& v = args[++i];
            const auto colon = v.find(':');
            options.credentials = image::Credentials{
                v.substr(0, colon), colon == std::string::npos ? "" : v.substr(colon + 1), {}};
        } else if (a == "--parallel" && has_value) {
            auto n = parse_int<unsigned>(args[++i]);
            if (!n || *n == 0)
                return usage("pull --parallel N (N >= 1)");
            options.parallel_layers = *n;
        } else if (a == "--mirror" && has_value) {
            mirrors.push_back(args[++i]);
        } else if (a == "--docker-config" && has_value) {
            options.docker_config = args[++i];
        } else if (name.empty() && !a.empty() && a.front() != '-') {
            name = a;
        } else {
            return usage("pull [--platform OS/ARCH[/VARIANT]] [--plain-http HOST:PORT] "
                         "[--creds USER:PASS] [--parallel N] [--docker-config FILE] "
                         "[--mirror HOST:PORT]... REF");
        }
    }
    if (name.empty())
        return usage("pull REF");
    auto ref = image::parse_reference(name);
    if (!ref)
        return fail(ref.error());
    if (!mirrors.empty())
        options.mirrors[ref->domain] = mirrors;
    auto store = open_store(g);
    if (!store)
        return fail(store.error());
    if (auto r = store->recover(); !r) // leftovers of a killed pull; safe beside other pulls
        return fail(r.error());
    ProgressView view(!g.json && ::isatty(STDOUT_FILENO));
    if (!g.json)
        options.progress = [&view](const image::Progress& p) { view.update(p); };
    auto record = store->pull(*ref, options);
    view.done();
    if (!record)
        return fail(record.error());
    if (g.json)
        std::printf(
            "%s\n",
            to_json(*record).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    else
        std::printf("pulled %s %s\n", record->reference.c_str(), record->manifest_digest.c_str());
    return 0;
}

int cmd_images(const Globals& g, const std::vector<std::string>& args)
{
    if (!args.empty())
        return usage("images");
    auto store = open_store(g);
    if (!store)
        return fail(store.error());
    auto all = store->list();
    if (!all)
        return fail(all.error());
    if (g.json) {
        auto out = nlohmann::json::array();
        for (const auto& r : *all)
            out.push_back(to_json(r));
        std::printf("%s\n",
                    out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        return 0;
    }
    std::printf("%-60s %-14s %12s\n", "REFERENCE", "MANIFEST", "SIZE");
    for (const auto& r : *all)
        std::printf("%-60s %-14s %12llu\n", r.reference.c_str(),
                    r.manifest_digest.substr(7, 12).c_str(),
                    static_cast<unsigned long long>(r.size));
    return 0;
}

int cmd_rmi(const Globals& g, const std::vector<std::string>& args)
{
    if (args.empty())
        return usage("rmi REF...");
    auto store = open_store(g);
    if (!store)
        return fail(store.error());
    int rc = 0;
    auto removed = nlohmann::json::array(); // --json: what went, even when another REF failed
    for (const auto& a : args) {
        auto record = store->find(a); // a digest or short ID names the image's own reference
        auto r = record ? store->remove(record->reference) : Result<void>(record.error());
        if (!r) {
            rc = fail(r.error());
            continue;
        }
        if (!g.json)
            std::printf("removed %s\n", a.c_str());
        removed.push_back(
            {{"reference", record->reference}, {"manifest", record->manifest_digest}});
    }
    if (g.json)
        std::printf("%s\n", nlohmann::json{{"removed", removed}}
                                .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                                .c_str());
    return rc;
}

int cmd_inspect(const Globals& g, const std::vector<std::string>& args)
{
    if (args.size() != 1)
        return usage("inspect REF");
    auto store = open_store(g);
    if (!store)
        return fail(store.error());
    auto r = store->find(args[0]);
    if (!r)
        return fail(r.error());
    std::printf("%s\n",
                to_json(*r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
}

} // namespace berth::cli
