// agent/berthd/credentials.cpp — the API's credentials (see berthd.hpp).
#include "agent/berthd/berthd.hpp"
#include "base/files.hpp"
#include "base/strings.hpp"

namespace berth::berthd {
namespace {

Result<std::string> random_hex(std::size_t n)
{
    std::string out;
    while (out.size() < n) {
        auto uuid = read_file("/proc/sys/kernel/random/uuid");
        if (!uuid)
            return std::move(uuid).error();
        for (const char ch : *uuid)
            if (ch != '-' && ch != '\n' && out.size() < n)
                out += ch;
    }
    return out;
}

Result<api::Credentials> read_credentials(const std::string& path)
{
    auto text = read_file(path, 4096);
    if (!text)
        return std::move(text).error();
    api::Credentials c;
    std::size_t start = 0;
    while (start < text->size()) {
        auto end = text->find('\n', start);
        if (end == std::string::npos)
            end = text->size();
        const std::string_view line(text->data() + start, end - start);
        if (line.starts_with("BERTH_API_ACCESS_KEY_ID="))
            c.access_key_id = std::string(line.substr(24));
        else if (line.starts_with("BERTH_API_SECRET_ACCESS_KEY="))
            c.secret_access_key = std::string(line.substr(28));
        start = end + 1;
    }
    if (c.access_key_id.empty() || c.secret_access_key.empty())
        return Error::invalid(quoted(path), ": BERTH_API_ACCESS_KEY_ID and "
                                            "BERTH_API_SECRET_ACCESS_KEY lines expected");
    return c;
}

} // namespace

Result<api::Credentials> api_credentials(const config::Config& config)
{
    if (!config.api_access_key_id.empty())
        return api::Credentials{config.api_access_key_id, config.api_secret_access_key};
    const auto path = cat(config.state_dir, "/", credentials_file);
    if (path_exists(path))
        return read_credentials(path);
    auto id = random_hex(16);
    auto secret = random_hex(40);
    if (!id || !secret)
        return !id ? id.error() : secret.error();
    api::Credentials c{cat("BERTH", *id), *secret};
    const auto text = cat("BERTH_API_ACCESS_KEY_ID=", c.access_key_id,
                          "\nBERTH_API_SECRET_ACCESS_KEY=", c.secret_access_key, "\n");
    if (auto r = write_file_durable(path, text, 0600); !r)
        return std::move(r).error().wrap("write API credentials");
    return c;
}

} // namespace berth::berthd
