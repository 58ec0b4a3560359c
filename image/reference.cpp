// image/reference.cpp — image references with Docker's defaults (the grammar of
// distribution/reference): docker.io, library/ for single names, latest when neither tag nor
// digest is given, host[:port] domains recognised by a '.' or ':' or the name localhost.
#include <algorithm>
#include "image/image.hpp"

namespace berth::image {
namespace {

constexpr std::size_t max_name_length = 255;
constexpr std::size_t max_tag_length = 128;

bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool valid_path_component(std::string_view c)
{
    if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back()))
        return false;
    for (std::size_t i = 0; i < c.size();) {
        if (is_lower_alnum(c[i])) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < c.size() && !is_lower_alnum(c[j]))
            ++j;
        const auto sep = c.substr(i, j - i);
        const bool ok = sep == "." || sep == "_" || sep == "__" ||
                        std::all_of(sep.begin(), sep.end(), [](char s) { return s == '-'; });
        if (!ok)
            return false;
        i = j;
    }
    return true;
}

bool valid_domain(std::string_view d)
{
    if (d.empty())
        return false;
    auto host = d;
    if (host.front() == '[') { // [v6]:port
        const auto close = host.find(']');
        if (close == std::string_view::npos)
            return false;
        const auto inner = host.substr(1, close - 1);
        if (inner.empty() || !std::all_of(inner.begin(), inner.end(), [](char c) {
                return is_hex(c) || (c >= 'A' && c <= 'F') || c == ':';
            }))
            return false;
        host = host.substr(close + 1);
        if (host.empty())
            return true;
        if (host.front() != ':')
            return false;
        return host.size() > 1 && parse_int<unsigned short>(host.substr(1)).has_value();
    }
    if (const auto colon = host.find(':'); colon != std::string_view::npos) {
        if (!parse_int<unsigned short>(host.substr(colon + 1)))
            return false;
        host = host.substr(0, colon);
    }
    if (host.empty() || host.front() == '-' || host.front() == '.' || host.back() == '-' ||
        host.back() == '.')
        return false;
    return std::all_of(host.begin(), host.end(), [](char c) {
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '-' || c == '.';
    });
}

bool valid_tag(std::string_view t)
{
    const auto word = [](char c) {
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '_';
    };
    if (t.empty() || t.size() > max_tag_length || !word(t.front()))
        return false;
    return std::all_of(t.begin(), t.end(), [&](char c) { return word(c) || c == '.' || c == '-'; });
}

bool looks_like_domain(std::string_view first)
{
    return first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
           first.front() == '[';
}

} // namespace

bool is_valid_digest(std::string_view digest)
{
    constexpr std::string_view prefix = "sha256:";
    if (digest.size() != prefix.size() + 64 || digest.substr(0, prefix.size()) != prefix)
        return false;
    const auto hex = digest.substr(prefix.size());
    return std::all_of(hex.begin(), hex.end(), is_hex);
}

Result<Reference> parse_reference(std::string_view text)
{
    const auto bad = [&](std::string_view why) {
        return Error::invalid("image reference ", quoted(text), ": ", why);
    };
    if (text.empty())
        return bad("empty");
    Reference ref;
    auto rest = text;
    if (const auto at = rest.find('@'); at != std::string_view::npos) {
        ref.digest = std::string(rest.substr(at + 1));
        rest = rest.substr(0, at);
        if (!is_valid_digest(ref.digest))
            return bad("digest is not sha256:<64 lowercase hex>");
    }
    // A tag is after the last ':' that follows the last '/' (a domain may have a port).
    const auto slash = rest.rfind('/');
    const auto colon = rest.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        ref.tag = std::string(rest.substr(colon + 1));
        rest = rest.substr(0, colon);
        if (!valid_tag(ref.tag))
            return bad("invalid tag");
    }
    const auto first_slash = rest.find('/');
    std::string_view name = rest;
    if (first_slash != std::string_view::npos && looks_like_domain(rest.substr(0, first_slash))) {
        ref.domain = std::string(rest.substr(0, first_slash));
        name = rest.substr(first_slash + 1);
        if (!valid_domain(ref.domain))
            return bad("invalid registry host");
    } else {
        ref.domain = "docker.io";
    }
    if (ref.domain == "index.docker.io" || ref.domain == "registry-1.docker.io")
        ref.domain = "docker.io";
    if (name.empty())
        return bad("no repository name");
    ref.repository = std::string(name);
    if (ref.domain == "docker.io" && name.find('/') == std::string_view::npos)
        ref.repository = "library/" + ref.repository;
    for (auto component : split(name, '/'))
        if (!valid_path_component(component))
            return bad("repository name must be lowercase letters, digits and separators");
    if (ref.domain.size() + 1 + ref.repository.size() > max_name_length)
        return bad("name longer than 255 characters");
    if (ref.tag.empty() && ref.digest.empty())
        ref.tag = "latest";
    return ref;
}

std::string Reference::str() const
{
    std::string out = domain + "/" + repository;
    if (!tag.empty())
        out += ":" + tag;
    if (!digest.empty())
        out += "@" + digest;
    return out;
}

std::string Reference::api_host() const
{
    return domain == "docker.io" ? "registry-1.docker.io" : domain;
}

} // namespace berth::image
