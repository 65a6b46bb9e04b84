#include "reconciler/vmm/qemu/qmp_client.h"

#include "reconciler/vmm/unix_socket.h"

namespace banger::vmm {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

Result<QmpClient> QmpClient::Connect(const std::string& socket_path,
                                     std::chrono::milliseconds timeout) {
  const std::string what = "qmp " + Quote(socket_path);
  auto fd = ConnectUnixSocket(socket_path);
  if (!fd.ok()) return std::move(fd).error();
  QmpClient client(std::move(fd).value(), socket_path);
  const auto deadline = Clock::now() + timeout;
  auto greeting = client.ReadMessage(deadline);
  if (!greeting.ok()) return std::move(greeting).error().WithContext(what + ": greeting");
  if (!greeting->contains("QMP"))
    return Error(Code::kCorruption, what + ": unexpected greeting " + greeting->dump());
  auto caps = client.Execute("qmp_capabilities", nullptr,
                             std::chrono::duration_cast<std::chrono::milliseconds>(
                                 deadline - Clock::now()));
  if (!caps.ok()) return std::move(caps).error();
  return client;
}

Result<json> QmpClient::ReadMessage(Clock::time_point deadline) {
  for (;;) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
      json msg = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (msg.is_discarded() || !msg.is_object())
        return Error(Code::kCorruption, "malformed message: " + line.substr(0, 200));
      return msg;
    }
    if (buffer_.size() > (1u << 20)) return Error(Code::kCorruption, "message too long");
    BANGER_RETURN_IF_ERROR(ReceiveSome(fd_.get(), &buffer_, deadline));
  }
}

Result<json> QmpClient::Execute(std::string_view command, const json& arguments,
                                std::chrono::milliseconds timeout) {
  return Exchange(command, arguments, -1, timeout);
}

Result<json> QmpClient::ExecuteWithFd(std::string_view command, const json& arguments, int fd,
                                      std::chrono::milliseconds timeout) {
  if (fd < 0) return InvalidArgument("qmp " + Quote(path_) + ": " + std::string(command) +
                                     ": no descriptor to pass");
  return Exchange(command, arguments, fd, timeout);
}

Result<json> QmpClient::Exchange(std::string_view command, const json& arguments, int fd,
                                 std::chrono::milliseconds timeout) {
  const std::string what = "qmp " + Quote(path_) + ": " + std::string(command);
  const auto deadline = Clock::now() + timeout;
  json request = {{"execute", command}};
  if (!arguments.is_null()) request["arguments"] = arguments;
  const std::string line = request.dump() + "\n";
  Status sent = fd >= 0 ? SendAllWithFd(fd_.get(), line, fd, deadline)
                        : SendAll(fd_.get(), line, deadline);
  if (!sent.ok()) return std::move(sent).error().WithContext(what);
  for (;;) {
    auto msg = ReadMessage(deadline);
    if (!msg.ok()) return std::move(msg).error().WithContext(what);
    if (msg->contains("event")) continue;
    if (auto it = msg->find("return"); it != msg->end()) return *it;
    if (auto it = msg->find("error"); it != msg->end()) {
      std::string desc = it->dump();
      if (it->is_object() && it->contains("desc") && (*it)["desc"].is_string())
        desc = (*it)["desc"].get<std::string>();
      return Error(Code::kFailedPrecondition, what + ": " + desc);
    }
    return Error(Code::kCorruption, what + ": unexpected reply " + msg->dump());
  }
}

Result<std::string> QmpClient::QueryStatus() {
  BANGER_ASSIGN_OR_RETURN(json status, Execute("query-status"));
  if (!status.is_object() || !status.contains("status") || !status["status"].is_string())
    return Error(Code::kCorruption, "qmp " + Quote(path_) + ": query-status: " + status.dump());
  return status["status"].get<std::string>();
}

}  // namespace banger::vmm
