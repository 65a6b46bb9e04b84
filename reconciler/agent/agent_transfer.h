// put/get through the guest agent: a tar stream into or out of a guest
// directory, and the tar this side writes for files from the host.
//
// The guest's tar runs as root and keeps owners (numerically) and modes, so
// what the archive says is what the guest gets.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "reconciler/agent/agent_client.h"

namespace banger::agentclient {

// A put in progress: tar bytes go out as they are written.
class PutStream {
 public:
  // Starts a put into `directory` (absolute; created with its parents when
  // missing) on a new channel.
  static Result<PutStream> Start(AgentClient& client, const std::string& directory,
                                 Deadline deadline);
  Status Write(std::string_view bytes);
  // Ends the stream and waits for the guest's tar to finish; its error
  // output is in the message when it fails.
  Status Finish();

 private:
  PutStream(AgentClient& client, uint32_t channel, std::string directory, Deadline deadline)
      : client_(&client), channel_(channel), directory_(std::move(directory)), deadline_(deadline) {}
  AgentClient* client_;
  uint32_t channel_;
  std::string directory_;
  Deadline deadline_;
};

// Copies the tar stream read from `source_fd` until EOF into `directory`.
Status PutTarStream(AgentClient& client, const std::string& directory, int source_fd,
                    Deadline deadline);

// Receives a tar of `directory` (its content, as "./..." entries); each
// chunk goes to `sink` in order.
Status GetTarStream(AgentClient& client, const std::string& directory,
                    const std::function<Status(std::string_view)>& sink, Deadline deadline);

// One entry of a tar banger writes from host files.
struct TarEntry {
  std::string name;       // relative path inside the archive
  mode_t mode = 0644;     // permission bits (the type comes from the fields below)
  uid_t uid = 0;
  gid_t gid = 0;
  bool directory = false;
  std::string host_path;  // a regular file's content (empty for directories)
};

// Puts `entries` into `directory` as one pax archive with numeric owners
// only, streamed from the host files as it is written.
Status PutEntries(AgentClient& client, const std::string& directory,
                  const std::vector<TarEntry>& entries, Deadline deadline);

}  // namespace banger::agentclient
