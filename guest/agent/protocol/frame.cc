#include "guest/agent/protocol/frame.h"

#include <array>

namespace banger::agent {
namespace {

constexpr char kMagic[3] = {'B', 'G', 'A'};

void PutU32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

uint32_t GetU32(std::string_view in) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

constexpr std::array<std::string_view, kMaxMsgType + 1> kNames = {
    "?",          "hello",     "hello_reply", "health",    "health_reply", "exec_start",
    "exec_started", "stdin",   "stdin_close", "stdout",    "stderr",       "signal",
    "resize",     "exit",      "error",       "put_start", "get_start",    "data",
    "data_end",   "done",      "host_keys",   "host_keys_reply", "reidentify",
    "reidentify_reply",
};

}  // namespace

std::string_view MsgTypeName(MsgType type) {
  auto v = static_cast<uint8_t>(type);
  return v >= kMinMsgType && v <= kMaxMsgType ? kNames[v] : "?";
}

Result<std::string> EncodeFrame(MsgType type, uint32_t channel, std::string_view payload) {
  if (payload.size() > kMaxPayload) {
    return Internal("agent frame " + std::string(MsgTypeName(type)) + " of " +
                    std::to_string(payload.size()) + " bytes is larger than the protocol allows");
  }
  std::string out;
  out.reserve(kHeaderSize + payload.size());
  out.append(kMagic, sizeof kMagic);
  out.push_back(static_cast<char>(kAgentProtocolVersion));
  out.push_back(static_cast<char>(type));
  out.append(3, '\0');
  PutU32(out, channel);
  PutU32(out, static_cast<uint32_t>(payload.size()));
  out.append(payload);
  return out;
}

Result<uint32_t> DecodeHeader(std::string_view h, MsgType& type, uint32_t& channel) {
  if (h.size() != kHeaderSize) return Internal("agent frame header must be 16 bytes");
  if (h.substr(0, 3) != std::string_view(kMagic, 3)) {
    return Error(Code::kCorruption, "agent frame: bad magic (not an agent stream)");
  }
  const auto version = static_cast<uint8_t>(h[3]);
  if (version != kAgentProtocolVersion) {
    return Error(Code::kFailedPrecondition,
                 "agent frame: protocol version " + std::to_string(version) + ", this side speaks " +
                     std::to_string(kAgentProtocolVersion));
  }
  const auto t = static_cast<uint8_t>(h[4]);
  if (t < kMinMsgType || t > kMaxMsgType) {
    return Error(Code::kCorruption, "agent frame: unknown message type " + std::to_string(t));
  }
  if (h[5] != 0 || h[6] != 0 || h[7] != 0) {
    return Error(Code::kCorruption, "agent frame: reserved header bytes are not zero");
  }
  const uint32_t length = GetU32(h.substr(12, 4));
  if (length > kMaxPayload) {
    return Error(Code::kCorruption, "agent frame: payload of " + std::to_string(length) +
                                        " bytes exceeds the limit of " +
                                        std::to_string(kMaxPayload));
  }
  type = static_cast<MsgType>(t);
  channel = GetU32(h.substr(8, 4));
  return length;
}

void FrameDecoder::Feed(std::string_view bytes) {
  // Compact once the consumed prefix dominates, so the buffer stays bounded
  // by one frame plus one read.
  if (start_ > 0 && start_ >= buffer_.size() / 2) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(bytes);
}

Result<std::optional<Frame>> FrameDecoder::Next() {
  if (error_) return *error_;
  for (;;) {
    std::string_view rest(buffer_.data() + start_, buffer_.size() - start_);
    if (rest.size() < kHeaderSize) {
      if (resyncing_ && rest.size() > 0) {
        // Keep only what could still begin a header.
        size_t magic = rest.find('B');
        start_ += magic == std::string_view::npos ? rest.size() : magic;
      }
      return std::optional<Frame>();
    }
    MsgType type;
    uint32_t channel;
    auto length = DecodeHeader(rest.substr(0, kHeaderSize), type, channel);
    if (resyncing_) {
      if (!length.ok() || type != MsgType::kHello) {
        ++start_;
        continue;
      }
      resyncing_ = false;
    }
    if (!length.ok()) {
      error_ = length.error();
      return *error_;
    }
    if (rest.size() < kHeaderSize + *length) return std::optional<Frame>();
    Frame frame{type, channel, std::string(rest.substr(kHeaderSize, *length))};
    start_ += kHeaderSize + *length;
    return std::optional<Frame>(std::move(frame));
  }
}

void FrameDecoder::Resync() {
  error_.reset();
  resyncing_ = true;
}

void FrameDecoder::Reset() {
  buffer_.clear();
  start_ = 0;
  error_.reset();
  resyncing_ = false;
}

}  // namespace banger::agent
