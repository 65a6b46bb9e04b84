// Strict JSON encoding of the helper protocol.
//
// A request frame is one JSON object: {"op": "create_tap", "name": "bgt-1a2b3c",
// "bridge": "bg0"}. Decoding is closed: an unknown operation, an unknown or
// missing field, or a field of the wrong type is rejected with a message that
// names it, and every decoded request is validated (ValidateRequest) before it
// is returned. A response frame is {"ok": true, "result": {...}} or
// {"ok": false, "error": {"code": "not found", "message": "..."}}, decoded
// just as strictly by the client.
#pragma once

#include <string>
#include <string_view>

#include "helper/protocol/protocol.h"
#include "reconciler/base/error.h"

namespace banger::helper {

// Largest frame either side sends or accepts.
inline constexpr size_t kMaxFrameSize = 64 * 1024;

std::string EncodeRequest(const Request& request);

// Errors read "request 'create_tap': missing field 'bridge'",
// "unknown operation 'format'", "request 'ping': unknown field 'x'".
Result<Request> DecodeRequest(std::string_view frame);

// The value checks of one request (names, prefixes, paths, addresses);
// DecodeRequest applies them, the client applies them before sending.
Status ValidateRequest(const Request& request);

std::string EncodeResponse(const EmptyResponse& response);
std::string EncodeResponse(const PingResponse& response);
std::string EncodeResponse(const TapResponse& response);
std::string EncodeResponse(const ListTapsResponse& response);
std::string EncodeResponse(const JailResponse& response);
std::string EncodeErrorResponse(const Error& error);

// Decodes a response frame expected to hold R. An error response becomes the
// Error it carries (code and message as the helper sent them).
template <typename R>
Result<R> DecodeResponse(std::string_view frame);

// The Code whose CodeName() is `name`; kInternal when none matches.
Code CodeFromName(std::string_view name);

}  // namespace banger::helper
