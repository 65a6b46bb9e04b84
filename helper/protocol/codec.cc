#include "helper/protocol/codec.h"

#include <functional>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "helper/protocol/names.h"

namespace banger::helper {

using nlohmann::json;

namespace {

// Dumps without throwing: invalid UTF-8 (a hostile path echoed in an error)
// is replaced rather than raising nlohmann's type_error.
std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Reads the fields of one JSON object, recording which were read so that
// Finish() can reject the rest as unknown.
class FieldReader {
 public:
  FieldReader(const json& object, std::string context)
      : object_(object), context_(std::move(context)) {}

  Result<std::string> String(const char* name) {
    BANGER_ASSIGN_OR_RETURN(const json* v, Get(name, json::value_t::string, "a string"));
    return v->get_ref<const std::string&>();
  }

  Result<bool> Bool(const char* name) {
    BANGER_ASSIGN_OR_RETURN(const json* v, Get(name, json::value_t::boolean, "a boolean"));
    return v->get<bool>();
  }

  Result<uint32_t> Uint32(const char* name) {
    BANGER_ASSIGN_OR_RETURN(const json* v,
                            Get(name, json::value_t::number_unsigned, "an unsigned integer"));
    uint64_t n = v->get<uint64_t>();
    if (n > UINT32_MAX) return Fail(name, "is out of range");
    return static_cast<uint32_t>(n);
  }

  Result<const json*> Array(const char* name) {
    return Get(name, json::value_t::array, "an array");
  }

  Result<const json*> Object(const char* name) {
    return Get(name, json::value_t::object, "an object");
  }

  // Rejects every field that was not read.
  Status Finish() const {
    for (const auto& [key, value] : object_.items()) {
      if (!seen_.count(key)) {
        return InvalidArgument(context_ + ": unknown field " + Quote(key));
      }
    }
    return OkStatus();
  }

  Error Fail(const char* name, std::string_view why) const {
    return InvalidArgument(context_ + ": field " + Quote(name) + " " + std::string(why));
  }

 private:
  Result<const json*> Get(const char* name, json::value_t type, const char* type_name) {
    seen_.insert(name);
    auto it = object_.find(name);
    if (it == object_.end()) {
      return InvalidArgument(context_ + ": missing field " + Quote(name));
    }
    if (it->type() != type) {
      return Fail(name, std::string("must be ") + type_name + ", not " + it->type_name());
    }
    return &*it;
  }

  const json& object_;
  std::string context_;
  std::set<std::string> seen_;
};

// Applies a value check and prefixes the failure with the field.
Status Check(const std::string& context, const char* field, Status status) {
  if (status.ok()) return status;
  return InvalidArgument(context + ": field " + Quote(field) + ": " +
                         status.error().message());
}

template <typename T>
Status CheckParse(const std::string& context, const char* field, const Result<T>& r) {
  if (r.ok()) return OkStatus();
  return InvalidArgument(context + ": field " + Quote(field) + ": " + r.error().message());
}

std::string Context(const char* op) { return std::string("request ") + Quote(op); }

// ---- per-operation decoding --------------------------------------------------

using Decoder = std::function<Result<Request>(FieldReader&)>;

const std::map<std::string, Decoder, std::less<>>& Decoders() {
  static const auto* decoders = new std::map<std::string, Decoder, std::less<>>{
      {PingRequest::kOp, [](FieldReader&) -> Result<Request> { return Request(PingRequest{}); }},
      {EnsureBridgeRequest::kOp,
       [](FieldReader& r) -> Result<Request> {
         EnsureBridgeRequest q;
         BANGER_ASSIGN_OR_RETURN(q.name, r.String("name"));
         BANGER_ASSIGN_OR_RETURN(q.address, r.String("address"));
         return Request(std::move(q));
       }},
      {CreateTapRequest::kOp,
       [](FieldReader& r) -> Result<Request> {
         CreateTapRequest q;
         BANGER_ASSIGN_OR_RETURN(q.name, r.String("name"));
         BANGER_ASSIGN_OR_RETURN(q.bridge, r.String("bridge"));
         return Request(std::move(q));
       }},
      {OpenTapRequest::kOp,
       [](FieldReader& r) -> Result<Request> {
         OpenTapRequest q;
         BANGER_ASSIGN_OR_RETURN(q.name, r.String("name"));
         return Request(std::move(q));
       }},
      {AssignTapRequest::kOp,
       [](FieldReader& r) -> Result<Request> {
         AssignTapRequest q;
         BANGER_ASSIGN_OR_RETURN(q.name, r.String("name"));
         BANGER_ASSIGN_OR_RETURN(q.vm, r.String("vm"));
         return Request(std::move(q));
       }},
      {DeleteTapRequest::kOp,
       [](FieldReader& r) -> Result<Request> {
         DeleteTapRequest q;
         BANGER_ASSIGN_OR_RETURN(q.name, r.String("name"));
         return Request(std::move(q));
       }},
      {ListTapsRequest::kOp,
       [](FieldReader&) -> Result<Request> { return Request(ListTapsRequest{}); }},
      {NatEnableRequest::kOp,
       [](FieldReader& r) -> Result<Request> {
         NatEnableRequest q;
         BANGER_ASSIGN_OR_RETURN(q.address, r.String("address"));
         BANGER_ASSIGN_OR_RETURN(q.bridge, r.String("bridge"));
         return Request(std::move(q));
       }},
      {NatDisableRequest::kOp,
       [](FieldReader& r) -> Result<Request> {
         NatDisableRequest q;
         BANGER_ASSIGN_OR_RETURN(q.address, r.String("address"));
         return Request(std::move(q));
       }},
      {JailStartRequest::kOp,
       [](FieldReader& r) -> Result<Request> {
         JailStartRequest q;
         BANGER_ASSIGN_OR_RETURN(q.vm, r.String("vm"));
         BANGER_ASSIGN_OR_RETURN(q.kernel, r.String("kernel"));
         BANGER_ASSIGN_OR_RETURN(q.initrd, r.String("initrd"));
         BANGER_ASSIGN_OR_RETURN(const json* drives, r.Array("drives"));
         for (const json& item : *drives) {
           if (!item.is_object()) return r.Fail("drives", "must hold objects");
           FieldReader dr(item, "request 'jail_start': drive");
           JailDrive d;
           BANGER_ASSIGN_OR_RETURN(d.id, dr.String("id"));
           BANGER_ASSIGN_OR_RETURN(d.path, dr.String("path"));
           BANGER_RETURN_IF_ERROR(dr.Finish());
           q.drives.push_back(std::move(d));
         }
         return Request(std::move(q));
       }},
      {JailRemoveRequest::kOp,
       [](FieldReader& r) -> Result<Request> {
         JailRemoveRequest q;
         BANGER_ASSIGN_OR_RETURN(q.vm, r.String("vm"));
         return Request(std::move(q));
       }},
      {NameSetRequest::kOp,
       [](FieldReader& r) -> Result<Request> {
         NameSetRequest q;
         BANGER_ASSIGN_OR_RETURN(q.bridge, r.String("bridge"));
         BANGER_ASSIGN_OR_RETURN(q.vm, r.String("vm"));
         BANGER_ASSIGN_OR_RETURN(q.address, r.String("address"));
         return Request(std::move(q));
       }},
      {NameRemoveRequest::kOp,
       [](FieldReader& r) -> Result<Request> {
         NameRemoveRequest q;
         BANGER_ASSIGN_OR_RETURN(q.vm, r.String("vm"));
         return Request(std::move(q));
       }},
      {PortsSetRequest::kOp,
       [](FieldReader& r) -> Result<Request> {
         PortsSetRequest q;
         BANGER_ASSIGN_OR_RETURN(q.vm, r.String("vm"));
         BANGER_ASSIGN_OR_RETURN(q.address, r.String("address"));
         BANGER_ASSIGN_OR_RETURN(const json* ports, r.Array("ports"));
         if (ports->size() > kMaxPublishedPorts) {
           return r.Fail("ports", "holds " + std::to_string(ports->size()) + " ports; at most " +
                                      std::to_string(kMaxPublishedPorts) + " are allowed");
         }
         for (const json& item : *ports) {
           if (!item.is_object()) return r.Fail("ports", "must hold objects");
           FieldReader pr(item, "request 'ports_set': port");
           PublishedPort p;
           BANGER_ASSIGN_OR_RETURN(p.host_address, pr.String("host_address"));
           BANGER_ASSIGN_OR_RETURN(p.host_port, pr.Uint32("host_port"));
           BANGER_ASSIGN_OR_RETURN(p.proto, pr.String("proto"));
           BANGER_ASSIGN_OR_RETURN(p.guest_port, pr.Uint32("guest_port"));
           BANGER_RETURN_IF_ERROR(pr.Finish());
           q.ports.push_back(std::move(p));
         }
         return Request(std::move(q));
       }},
      {PortsClearRequest::kOp,
       [](FieldReader& r) -> Result<Request> {
         PortsClearRequest q;
         BANGER_ASSIGN_OR_RETURN(q.vm, r.String("vm"));
         return Request(std::move(q));
       }},
  };
  return *decoders;
}

// ---- per-operation validation and encoding ----------------------------------

struct Validator {
  std::string c;
  Status operator()(const PingRequest&) const { return OkStatus(); }
  Status operator()(const ListTapsRequest&) const { return OkStatus(); }
  Status operator()(const EnsureBridgeRequest& q) const {
    BANGER_RETURN_IF_ERROR(Check(c, "name", ValidateLinkName(q.name)));
    return CheckParse(c, "address", ParseInterfaceCidr(q.address));
  }
  Status operator()(const CreateTapRequest& q) const {
    BANGER_RETURN_IF_ERROR(Check(c, "name", ValidateLinkName(q.name)));
    return Check(c, "bridge", ValidateLinkName(q.bridge));
  }
  Status operator()(const OpenTapRequest& q) const {
    return Check(c, "name", ValidateLinkName(q.name));
  }
  Status operator()(const AssignTapRequest& q) const {
    BANGER_RETURN_IF_ERROR(Check(c, "name", ValidateLinkName(q.name)));
    return Check(c, "vm", ValidateVmName(q.vm));
  }
  Status operator()(const DeleteTapRequest& q) const {
    return Check(c, "name", ValidateLinkName(q.name));
  }
  Status operator()(const NatEnableRequest& q) const {
    BANGER_RETURN_IF_ERROR(CheckParse(c, "address", ParseIpv4(q.address)));
    return Check(c, "bridge", ValidateLinkName(q.bridge));
  }
  Status operator()(const NatDisableRequest& q) const {
    return CheckParse(c, "address", ParseIpv4(q.address));
  }
  Status operator()(const JailStartRequest& q) const {
    BANGER_RETURN_IF_ERROR(Check(c, "vm", ValidateVmName(q.vm)));
    BANGER_RETURN_IF_ERROR(Check(c, "kernel", ValidateCleanAbsolutePath(q.kernel)));
    if (!q.initrd.empty()) {
      BANGER_RETURN_IF_ERROR(Check(c, "initrd", ValidateCleanAbsolutePath(q.initrd)));
    }
    if (q.drives.empty() || q.drives.size() > kMaxJailDrives) {
      return InvalidArgument(c + ": field 'drives': " + std::to_string(q.drives.size()) +
                             " drives; 1 to " + std::to_string(kMaxJailDrives) + " are allowed");
    }
    std::set<std::string> ids;
    for (const JailDrive& d : q.drives) {
      BANGER_RETURN_IF_ERROR(Check(c, "drives", ValidateJailDriveId(d.id)));
      if (!ids.insert(d.id).second) {
        return InvalidArgument(c + ": field 'drives': drive " + Quote(d.id) + " appears twice");
      }
      BANGER_RETURN_IF_ERROR(Check(c, "drives", ValidateCleanAbsolutePath(d.path)));
    }
    return OkStatus();
  }
  Status operator()(const JailRemoveRequest& q) const {
    return Check(c, "vm", ValidateVmName(q.vm));
  }
  Status operator()(const NameSetRequest& q) const {
    BANGER_RETURN_IF_ERROR(Check(c, "bridge", ValidateLinkName(q.bridge)));
    BANGER_RETURN_IF_ERROR(Check(c, "vm", ValidateVmName(q.vm)));
    return CheckParse(c, "address", ParseIpv4(q.address));
  }
  Status operator()(const NameRemoveRequest& q) const {
    return Check(c, "vm", ValidateVmName(q.vm));
  }
  Status operator()(const PortsSetRequest& q) const {
    BANGER_RETURN_IF_ERROR(Check(c, "vm", ValidateVmName(q.vm)));
    BANGER_RETURN_IF_ERROR(CheckParse(c, "address", ParseIpv4(q.address)));
    return Check(c, "ports", ValidatePublishedPorts(q.ports));
  }
  Status operator()(const PortsClearRequest& q) const {
    return Check(c, "vm", ValidateVmName(q.vm));
  }
};

struct Encoder {
  json& j;
  void operator()(const PingRequest&) const {}
  void operator()(const ListTapsRequest&) const {}
  void operator()(const EnsureBridgeRequest& q) const {
    j["name"] = q.name;
    j["address"] = q.address;
  }
  void operator()(const CreateTapRequest& q) const {
    j["name"] = q.name;
    j["bridge"] = q.bridge;
  }
  void operator()(const OpenTapRequest& q) const { j["name"] = q.name; }
  void operator()(const AssignTapRequest& q) const {
    j["name"] = q.name;
    j["vm"] = q.vm;
  }
  void operator()(const DeleteTapRequest& q) const { j["name"] = q.name; }
  void operator()(const NatEnableRequest& q) const {
    j["address"] = q.address;
    j["bridge"] = q.bridge;
  }
  void operator()(const NatDisableRequest& q) const { j["address"] = q.address; }
  void operator()(const JailStartRequest& q) const {
    j["vm"] = q.vm;
    j["kernel"] = q.kernel;
    j["initrd"] = q.initrd;
    j["drives"] = json::array();
    for (const JailDrive& d : q.drives) j["drives"].push_back({{"id", d.id}, {"path", d.path}});
  }
  void operator()(const JailRemoveRequest& q) const { j["vm"] = q.vm; }
  void operator()(const NameSetRequest& q) const {
    j["bridge"] = q.bridge;
    j["vm"] = q.vm;
    j["address"] = q.address;
  }
  void operator()(const NameRemoveRequest& q) const { j["vm"] = q.vm; }
  void operator()(const PortsSetRequest& q) const {
    j["vm"] = q.vm;
    j["address"] = q.address;
    j["ports"] = json::array();
    for (const PublishedPort& p : q.ports) {
      j["ports"].push_back({{"host_address", p.host_address},
                            {"host_port", p.host_port},
                            {"proto", p.proto},
                            {"guest_port", p.guest_port}});
    }
  }
  void operator()(const PortsClearRequest& q) const { j["vm"] = q.vm; }
};

Result<json> ParseObject(std::string_view frame, const char* what) {
  if (frame.size() > kMaxFrameSize) {
    return Error(Code::kCorruption, std::string(what) + " is larger than " +
                                        std::to_string(kMaxFrameSize) + " bytes");
  }
  json j = json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Error(Code::kCorruption, std::string(what) + " is not valid JSON");
  }
  if (!j.is_object()) {
    return Error(Code::kCorruption, std::string(what) + " is not a JSON object");
  }
  return j;
}

}  // namespace

const char* OperationName(const Request& request) {
  return std::visit([](const auto& q) { return std::decay_t<decltype(q)>::kOp; }, request);
}

std::vector<std::string> OperationNames() {
  std::vector<std::string> names;
  auto add = [&]<size_t... I>(std::index_sequence<I...>) {
    (names.push_back(std::variant_alternative_t<I, Request>::kOp), ...);
  };
  add(std::make_index_sequence<std::variant_size_v<Request>>());
  return names;
}

std::string EncodeRequest(const Request& request) {
  json j = json::object();
  j["op"] = OperationName(request);
  std::visit(Encoder{j}, request);
  return Dump(j);
}

Status ValidateRequest(const Request& request) {
  return std::visit(Validator{Context(OperationName(request))}, request);
}

Result<Request> DecodeRequest(std::string_view frame) {
  BANGER_ASSIGN_OR_RETURN(json j, ParseObject(frame, "request"));
  auto op_it = j.find("op");
  if (op_it == j.end()) return InvalidArgument("request: missing field 'op'");
  if (!op_it->is_string()) {
    return InvalidArgument(std::string("request: field 'op' must be a string, not ") +
                           op_it->type_name());
  }
  const std::string& op = op_it->get_ref<const std::string&>();
  auto decoder = Decoders().find(op);
  if (decoder == Decoders().end()) {
    return InvalidArgument("unknown operation " + Quote(op));
  }
  FieldReader reader(j, Context(decoder->first.c_str()));
  std::ignore = reader.String("op");
  BANGER_ASSIGN_OR_RETURN(Request request, decoder->second(reader));
  BANGER_RETURN_IF_ERROR(reader.Finish());
  BANGER_RETURN_IF_ERROR(ValidateRequest(request));
  return request;
}

// ---- responses ----------------------------------------------------------------

namespace {

std::string Ok(json result) {
  json j = json::object();
  j["ok"] = true;
  j["result"] = std::move(result);
  return Dump(j);
}

Result<EmptyResponse> FromJson(FieldReader& r, EmptyResponse*) {
  (void)r;
  return EmptyResponse{};
}

Result<PingResponse> FromJson(FieldReader& r, PingResponse*) {
  PingResponse p;
  BANGER_ASSIGN_OR_RETURN(p.version, r.String("version"));
  BANGER_ASSIGN_OR_RETURN(uint32_t protocol, r.Uint32("protocol"));
  p.protocol = static_cast<int>(protocol);
  BANGER_ASSIGN_OR_RETURN(p.owner_uid, r.Uint32("owner_uid"));
  return p;
}

Result<TapResponse> FromJson(FieldReader& r, TapResponse*) {
  TapResponse t;
  BANGER_ASSIGN_OR_RETURN(t.name, r.String("name"));
  return t;
}

Result<JailResponse> FromJson(FieldReader& r, JailResponse*) {
  JailResponse j;
  BANGER_ASSIGN_OR_RETURN(j.pid, r.Uint32("pid"));
  BANGER_ASSIGN_OR_RETURN(j.root, r.String("root"));
  return j;
}

Result<ListTapsResponse> FromJson(FieldReader& r, ListTapsResponse*) {
  ListTapsResponse list;
  BANGER_ASSIGN_OR_RETURN(const json* taps, r.Array("taps"));
  for (const json& item : *taps) {
    if (!item.is_object()) return r.Fail("taps", "must hold objects");
    FieldReader tr(item, "response 'list_taps': tap");
    TapInfo info;
    BANGER_ASSIGN_OR_RETURN(info.name, tr.String("name"));
    BANGER_ASSIGN_OR_RETURN(info.bridge, tr.String("bridge"));
    BANGER_ASSIGN_OR_RETURN(info.vm, tr.String("vm"));
    BANGER_RETURN_IF_ERROR(tr.Finish());
    list.taps.push_back(std::move(info));
  }
  return list;
}

}  // namespace

std::string EncodeResponse(const EmptyResponse&) { return Ok(json::object()); }

std::string EncodeResponse(const PingResponse& p) {
  return Ok({{"version", p.version}, {"protocol", p.protocol}, {"owner_uid", p.owner_uid}});
}

std::string EncodeResponse(const TapResponse& t) { return Ok({{"name", t.name}}); }

std::string EncodeResponse(const JailResponse& j) {
  return Ok({{"pid", j.pid}, {"root", j.root}});
}

std::string EncodeResponse(const ListTapsResponse& list) {
  json taps = json::array();
  for (const TapInfo& t : list.taps) {
    taps.push_back({{"name", t.name}, {"bridge", t.bridge}, {"vm", t.vm}});
  }
  return Ok({{"taps", std::move(taps)}});
}

std::string EncodeErrorResponse(const Error& error) {
  json j = json::object();
  j["ok"] = false;
  j["error"] = {{"code", std::string(CodeName(error.code()))},
                {"message", error.message()}};
  return Dump(j);
}

Code CodeFromName(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(Code::kInternal); ++i) {
    if (CodeName(static_cast<Code>(i)) == name) return static_cast<Code>(i);
  }
  return Code::kInternal;
}

template <typename R>
Result<R> DecodeResponse(std::string_view frame) {
  BANGER_ASSIGN_OR_RETURN(json j, ParseObject(frame, "helper response"));
  FieldReader envelope(j, "helper response");
  BANGER_ASSIGN_OR_RETURN(bool ok, envelope.Bool("ok"));
  if (!ok) {
    BANGER_ASSIGN_OR_RETURN(const json* err, envelope.Object("error"));
    BANGER_RETURN_IF_ERROR(envelope.Finish());
    FieldReader er(*err, "helper response: error");
    BANGER_ASSIGN_OR_RETURN(std::string code, er.String("code"));
    BANGER_ASSIGN_OR_RETURN(std::string message, er.String("message"));
    BANGER_RETURN_IF_ERROR(er.Finish());
    return Error(CodeFromName(code), std::move(message));
  }
  BANGER_ASSIGN_OR_RETURN(const json* result, envelope.Object("result"));
  BANGER_RETURN_IF_ERROR(envelope.Finish());
  FieldReader rr(*result, "helper response: result");
  BANGER_ASSIGN_OR_RETURN(R response, FromJson(rr, static_cast<R*>(nullptr)));
  BANGER_RETURN_IF_ERROR(rr.Finish());
  return response;
}

template Result<EmptyResponse> DecodeResponse<EmptyResponse>(std::string_view);
template Result<PingResponse> DecodeResponse<PingResponse>(std::string_view);
template Result<TapResponse> DecodeResponse<TapResponse>(std::string_view);
template Result<ListTapsResponse> DecodeResponse<ListTapsResponse>(std::string_view);
template Result<JailResponse> DecodeResponse<JailResponse>(std::string_view);

}  // namespace banger::helper
