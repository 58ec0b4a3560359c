// image/auth.cpp — WWW-Authenticate challenges (RFC 7235 auth-params, quoted strings with
// backslash escapes) and credentials from a Docker-style config.json `auths` map (the helpers of
// credHelpers/credsStore are in credential_helper.cpp; pull.cpp asks them first, as Docker does).
#include <algorithm>
#include <nlohmann/json.hpp>
#include "image/credential_helper.hpp"
#include "image/image.hpp"

namespace berth::image {
namespace {

constexpr std::size_t max_header = 8192;

bool is_token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

void skip_spaces(std::string_view& s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
}

std::string_view take_token(std::string_view& s)
{
    std::size_t n = 0;
    while (n < s.size() && is_token_char(s[n]))
        ++n;
    auto token = s.substr(0, n);
    s.remove_prefix(n);
    return token;
}

// A quoted-string after the opening quote; false if unterminated.
bool take_quoted(std::string_view& s, std::string& out)
{
    while (!s.empty()) {
        const char c = s.front();
        s.remove_prefix(1);
        if (c == '"')
            return true;
        if (c == '\\') {
            if (s.empty())
                return false;
            out += s.front();
            s.remove_prefix(1);
        } else {
            out += c;
        }
    }
    return false;
}

std::string string_field(const nlohmann::json& entry, const char* name)
{
    const auto f = entry.find(name);
    return f != entry.end() && f->is_string() ? f->get<std::string>() : std::string();
}

} // namespace

Result<Challenge> parse_www_authenticate(std::string_view header)
{
    const auto bad = [&](std::string_view why) {
        return Error::invalid("WWW-Authenticate ", quoted(header), ": ", why);
    };
    if (header.size() > max_header)
        return bad("too long");
    auto s = header;
    skip_spaces(s);
    Challenge c;
    c.scheme = lower(take_token(s));
    if (c.scheme.empty())
        return bad("no scheme");
    for (;;) {
        skip_spaces(s);
        if (s.empty())
            break;
        auto key = lower(take_token(s));
        skip_spaces(s);
        if (key.empty() || s.empty() || s.front() != '=')
            break; // the next challenge (or token68) starts: keep the first challenge only
        s.remove_prefix(1);
        skip_spaces(s);
        std::string value;
        if (!s.empty() && s.front() == '"') {
            s.remove_prefix(1);
            if (!take_quoted(s, value))
                return bad("unterminated quoted string");
        } else {
            value = std::string(take_token(s));
        }
        if (key == "realm")
            c.realm = std::move(value);
        else if (key == "service")
            c.service = std::move(value);
        else if (key == "scope")
            c.scope = std::move(value);
        skip_spaces(s);
        if (!s.empty() && s.front() == ',')
            s.remove_prefix(1);
    }
    if (c.scheme == "bearer" && c.realm.empty())
        return bad("bearer challenge without a realm");
    return c;
}

Result<std::optional<Credentials>> credentials_from_config(std::string_view config_json,
                                                           std::string_view host)
{
    auto j = nlohmann::json::parse(config_json.begin(), config_json.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return Error::invalid("docker config: not a JSON object");
    const auto auths = j.find("auths");
    if (auths == j.end() || !auths->is_object())
        return std::optional<Credentials>{};
    for (const auto& [key, entry] : auths->items()) {
        if (!config_key_names_host(key, host) || !entry.is_object())
            continue;
        Credentials creds;
        if (const auto a = entry.find("auth");
            a != entry.end() && a->is_string() && !a->get<std::string>().empty()) {
            auto decoded = base64_decode(a->get<std::string>());
            const auto colon = decoded ? decoded->find(':') : std::string::npos;
            if (colon == std::string::npos)
                return Error::invalid("docker config: auths ", quoted(key),
                                      ": auth is not base64 of user:password");
            creds.username = decoded->substr(0, colon);
            creds.password = decoded->substr(colon + 1);
        } else {
            creds.username = string_field(entry, "username");
            creds.password = string_field(entry, "password");
        }
        creds.identity_token = string_field(entry, "identitytoken");
        // `docker login` with a credential store leaves the marker {} here and keeps the secret
        // in the helper: an entry without a secret matches nothing (the next key may hold one).
        if (creds.username.empty() && creds.password.empty() && creds.identity_token.empty())
            continue;
        return std::optional<Credentials>{std::move(creds)};
    }
    return std::optional<Credentials>{};
}

} // namespace berth::image
