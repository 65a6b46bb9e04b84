#include "reconciler/agent/agent_transfer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "reconciler/os/unique_fd.h"

namespace banger::agentclient {
namespace {

using agent::Frame;
using agent::MsgType;

constexpr size_t kChunk = 32 * 1024;

// The end of a channel: `want` (done or data_end), or the agent's error.
Status ChannelEnd(const Frame& f, MsgType want, const std::string& what) {
  if (f.type == want) return OkStatus();
  if (f.type == MsgType::kError) {
    BANGER_ASSIGN_OR_RETURN(std::string why, agent::DecodeString(f.payload, "error"));
    return Error(Code::kIo, what + ": " + why);
  }
  return Error(Code::kCorruption, what + ": unexpected " + std::string(agent::MsgTypeName(f.type)) +
                                      " from the guest agent");
}

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

struct WriteContext {
  PutStream* put;
  Status status;
};

la_ssize_t WriteCallback(archive*, void* ctx, const void* buf, size_t n) {
  auto* c = static_cast<WriteContext*>(ctx);
  Status st = c->put->Write(std::string_view(static_cast<const char*>(buf), n));
  if (!st.ok()) {
    c->status = st;
    return -1;
  }
  return static_cast<la_ssize_t>(n);
}

Status ArchiveError(archive* a, const std::string& what) {
  return Error(Code::kIo, what + ": " + (archive_error_string(a) ? archive_error_string(a) : "libarchive failed"));
}

}  // namespace

Result<PutStream> PutStream::Start(AgentClient& client, const std::string& directory,
                                   Deadline deadline) {
  const uint32_t ch = client.NewChannel();
  BANGER_RETURN_IF_ERROR(client.Send(MsgType::kPutStart, ch, agent::EncodeString(directory), deadline));
  return PutStream(client, ch, directory, deadline);
}

Status PutStream::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    std::string_view chunk = bytes.substr(0, kChunk);
    BANGER_RETURN_IF_ERROR(client_->Send(MsgType::kData, channel_, chunk, deadline_));
    bytes.remove_prefix(chunk.size());
  }
  return OkStatus();
}

Status PutStream::Finish() {
  BANGER_RETURN_IF_ERROR(client_->Send(MsgType::kDataEnd, channel_, "", deadline_));
  for (;;) {
    BANGER_ASSIGN_OR_RETURN(Frame f, client_->Receive(deadline_));
    if (f.channel != channel_) continue;
    return ChannelEnd(f, MsgType::kDone, "put into " + Quote(directory_) + " in the guest");
  }
}

Status PutTarStream(AgentClient& client, const std::string& directory, int source_fd,
                    Deadline deadline) {
  BANGER_ASSIGN_OR_RETURN(PutStream put, PutStream::Start(client, directory, deadline));
  char buf[kChunk];
  for (;;) {
    ssize_t n = read(source_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("read the tar stream");
    if (n == 0) break;
    BANGER_RETURN_IF_ERROR(put.Write(std::string_view(buf, static_cast<size_t>(n))));
  }
  return put.Finish();
}

Status GetTarStream(AgentClient& client, const std::string& directory,
                    const std::function<Status(std::string_view)>& sink, Deadline deadline) {
  const uint32_t ch = client.NewChannel();
  BANGER_RETURN_IF_ERROR(client.Send(MsgType::kGetStart, ch, agent::EncodeString(directory), deadline));
  const std::string what = "get from " + Quote(directory) + " in the guest";
  for (;;) {
    BANGER_ASSIGN_OR_RETURN(Frame f, client.Receive(deadline));
    if (f.channel != ch) continue;
    if (f.type == MsgType::kData) {
      BANGER_RETURN_IF_ERROR(sink(f.payload));
      continue;
    }
    return ChannelEnd(f, MsgType::kDataEnd, what);
  }
}

Status PutEntries(AgentClient& client, const std::string& directory,
                  const std::vector<TarEntry>& entries, Deadline deadline) {
  BANGER_ASSIGN_OR_RETURN(PutStream put, PutStream::Start(client, directory, deadline));
  WriteContext ctx{&put, OkStatus()};
  std::unique_ptr<archive, ArchiveDeleter> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  archive_write_set_bytes_per_block(a.get(), 0);  // no padding to 10 KiB blocks
  if (archive_write_open2(a.get(), &ctx, nullptr, WriteCallback, nullptr, nullptr) != ARCHIVE_OK)
    return ArchiveError(a.get(), "start a tar stream");
  for (const TarEntry& t : entries) {
    std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), t.name.c_str());
    archive_entry_set_uid(e.get(), t.uid);
    archive_entry_set_gid(e.get(), t.gid);
    archive_entry_set_mtime(e.get(), time(nullptr), 0);
    UniqueFd fd;
    if (t.directory) {
      archive_entry_set_mode(e.get(), S_IFDIR | (t.mode & 07777));
    } else {
      fd.Reset(open(t.host_path.c_str(), O_RDONLY | O_CLOEXEC));
      struct stat st;
      if (!fd.valid() || fstat(fd.get(), &st) != 0) return Error::FromErrno("open " + Quote(t.host_path));
      archive_entry_set_mode(e.get(), S_IFREG | (t.mode & 07777));
      archive_entry_set_size(e.get(), st.st_size);
    }
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) {
      if (!ctx.status.ok()) return ctx.status;
      return ArchiveError(a.get(), "tar header for " + Quote(t.name));
    }
    if (fd.valid()) {
      char buf[kChunk];
      for (;;) {
        ssize_t n = read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error::FromErrno("read " + Quote(t.host_path));
        if (n == 0) break;
        if (archive_write_data(a.get(), buf, static_cast<size_t>(n)) < 0) {
          if (!ctx.status.ok()) return ctx.status;
          return ArchiveError(a.get(), "tar data of " + Quote(t.name));
        }
      }
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    if (!ctx.status.ok()) return ctx.status;
    return ArchiveError(a.get(), "finish the tar stream");
  }
  return put.Finish();
}

}  // namespace banger::agentclient
