// tests/fuzz/api_request_fuzz.cpp — an API request from the network (after a valid signature, so
// the search reaches the operations) -> handle_request. Input: the first line is the operation
// (the X-Amz-Target suffix), the rest the JSON body. Properties: the answer is 200 or a 4xx with
// an ECS error shape, never a 500 (a 500 here means an operation threw on unexpected JSON); and
// parse_authorization on the first line either parses or says why.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include "agent/api/internal.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > fuzz::max_input)
        return 0;
    const auto text = fuzz::as_text(data, size);
    const auto newline = text.find('\n');
    const std::string operation(text.substr(0, newline));
    const std::string body(newline == std::string_view::npos ? "" : text.substr(newline + 1));

    std::string why;
    if (!api::sigv4::parse_authorization(operation, why))
        fuzz::require(!why.empty(), "a refused Authorization header says why");

    static auto store = std::move(*store::Store::open(":memory:"));
    static bool ready = [] {
        (void)store.ensure_cluster("default", "arn:aws:ecs:us-east-1:000000000000:cluster/default",
                                   1);
        (void)store.ensure_container_instance(
            "default", "arn:aws:ecs:us-east-1:000000000000:container-instance/default/0", 1);
        return true;
    }();
    (void)ready;
    api::Options options;
    options.credentials = {"AKIDFUZZ", "fuzz-secret"};
    api::Context context{options, store, nullptr, 1440938160};
    const auto now = std::chrono::system_clock::from_time_t(1440938160);

    api::sigv4::Request request{
        "POST",
        "/",
        {{"Host", "127.0.0.1"},
         {"X-Amz-Date", "20150830T123600Z"},
         {"X-Amz-Target", "AmazonEC2ContainerServiceV20141113." + operation},
         {"Content-Type", "application/x-amz-json-1.1"}},
        body};
    const api::sigv4::Authorization auth{"AKIDFUZZ",
                                         "20150830",
                                         "us-east-1",
                                         "ecs",
                                         {"content-type", "host", "x-amz-date", "x-amz-target"},
                                         ""};
    request.headers.emplace_back(
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDFUZZ/20150830/us-east-1/ecs/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" +
            api::sigv4::sign(request, auth, "fuzz-secret", "20150830T123600Z"));

    const auto response = api::handle_request(context, request, now);
    fuzz::require(response.status == 200 || (response.status >= 400 && response.status < 500),
                  "the answer is 200 or a client error, never a server error");
    const auto parsed = nlohmann::json::parse(response.body, nullptr, false);
    fuzz::require(parsed.is_object(), "the answer is a JSON object");
    if (response.status != 200)
        fuzz::require(parsed.contains("__type") && parsed.contains("message"),
                      "an error has __type and message");
    return 0;
}
