// agent/api/handler.cpp — one request, independent of HTTP plumbing: authenticate (SigV4), check
// the AWS JSON 1.1 framing (POST /, X-Amz-Target, Content-Type), parse the body, run the
// operation, shape the reply or the error.
#include <algorithm>
#include "agent/api/context.hpp"
#include "base/strings.hpp"

namespace berth::api {
namespace {

constexpr std::string_view target_prefix = "AmazonEC2ContainerServiceV20141113.";

std::string header(const sigv4::Request& request, std::string_view name)
{
    for (const auto& [key, value] : request.headers)
        if (key.size() == name.size() &&
            std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == b;
            }))
            return value;
    return {};
}

ApiError serialization(std::string message)
{
    return {400, "SerializationException", std::move(message)};
}

} // namespace

HttpResponse error_response(const ApiError& error)
{
    const nlohmann::json body = {{"__type", error.type}, {"message", error.message}};
    return HttpResponse{error.status,
                        body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

HttpResponse handle_request(Context& context, const sigv4::Request& request,
                            std::chrono::system_clock::time_point now, bool peer_authenticated)
{
    const sigv4::Verifier verifier{context.options.credentials.access_key_id,
                                   context.options.credentials.secret_access_key,
                                   context.options.region, "ecs", context.options.max_clock_skew};
    if (!peer_authenticated)
        if (auto denied = sigv4::verify(request, verifier, now))
            return error_response(*denied);
    if (request.method != "POST" || (request.target != "/" && !request.target.starts_with("/?")))
        return error_response({404, "UnknownOperationException",
                               cat("the ECS API is served by POST /, not ", request.method, " ",
                                   quoted(request.target))});
    const std::string target = header(request, "x-amz-target");
    if (!target.starts_with(target_prefix))
        return error_response(
            {400, "UnknownOperationException",
             cat("X-Amz-Target must be ", target_prefix, "<Operation>, not ", quoted(target))});
    const std::string type = header(request, "content-type");
    if (!type.starts_with("application/x-amz-json-1.1") && !type.starts_with("application/json"))
        return error_response(serialization(
            cat("Content-Type must be application/x-amz-json-1.1, not ", quoted(type))));
    nlohmann::json input = nlohmann::json::object();
    if (!request.body.empty()) {
        input = nlohmann::json::parse(request.body, nullptr, false);
        if (input.is_discarded())
            return error_response(serialization("request body is not valid JSON"));
        if (!input.is_object())
            return error_response(serialization("request body must be a JSON object"));
    }
    Reply reply;
    try {
        reply =
            run_operation(context, std::string_view(target).substr(target_prefix.size()), input);
    } catch (const std::exception& e) { // nlohmann::json type errors, std::bad_alloc
        reply = fail(server_exception(cat("internal error: ", e.what())));
    }
    if (reply.error)
        return error_response(*reply.error);
    return HttpResponse{200,
                        reply.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

} // namespace berth::api
