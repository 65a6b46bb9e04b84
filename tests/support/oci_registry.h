// A real OCI registry for tests (Debian's `docker-registry`, distribution
// v2.8) on 127.0.0.1, plus helpers to build fixture images with umoci and
// push them with skopeo, and to run helper servers (token server, fault
// proxy) in the background.
//
// Every process started here is owned by an object that kills it by PID
// (its own process group) and reaps it; tests check with ProcessExists()
// that none outlived its owner. Failures throw: these are test fixtures.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "reconciler/os/fs.h"

namespace banger::testing {

// A background child started from an argv vector (no shell) with an
// explicit environment, output appended to a log file.
class ChildProcess {
 public:
  static ChildProcess Spawn(const std::vector<std::string>& argv,
                            const std::vector<std::string>& env, const std::string& log_path);
  ChildProcess() = default;
  ChildProcess(ChildProcess&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
  ChildProcess& operator=(ChildProcess&& o) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { Stop(); }

  pid_t pid() const { return pid_; }
  // Whether it is still running (reaps it if it exited).
  bool Running();
  // SIGKILL to its process group, then waitpid.
  void Stop();

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

// Whether any process (including a zombie) has this PID.
bool ProcessExists(pid_t pid);

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeLoopbackPort();

// Polls `url` until any HTTP response arrives; throws after `timeout`
// (naming `log_path`'s tail) or when `child` exits first.
void WaitForHttp(const std::string& url, ChildProcess& child, const std::string& log_path,
                 std::chrono::milliseconds timeout = std::chrono::seconds(20));

struct OciRegistryOptions {
  // Non-empty: auth.htpasswd with this user (bcrypt via `htpasswd -B`).
  std::string htpasswd_user;
  std::string htpasswd_password;
  // Non-empty realm: auth.token with these settings.
  std::string token_realm;
  std::string token_service;
  std::string token_issuer;
  std::string token_rootcert;  // PEM bundle verifying token signatures
};

class OciRegistry {
 public:
  static std::unique_ptr<OciRegistry> Start(const OciRegistryOptions& options = {});

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return process_.pid(); }
  const std::string& dir() const { return dir_.path(); }
  void Stop() { process_.Stop(); }

 private:
  OciRegistry() = default;
  TempDir dir_;
  ChildProcess process_;
  int port_ = 0;
};

// Image fixtures in an OCI layout directory.
struct LayoutImage {
  std::string tag;
  std::vector<std::string> layers;  // uncompressed tarballs, oldest first
  std::string os = "linux";
  std::string architecture = "amd64";
  // Extra `umoci config` flags, e.g. "--config.env=A=1".
  std::vector<std::string> config_flags;
};

// Adds an image to `layout` (created if needed) with umoci.
void BuildLayoutImage(const std::string& layout, const LayoutImage& image);

// Adds an OCI image index tagged `index_tag` listing the manifests tagged
// `tags`, each with the platform of its config. Returns its digest.
std::string AddLayoutIndex(const std::string& layout, const std::string& index_tag,
                           const std::vector<std::string>& tags);

// The manifest digest tagged `tag` in the layout's index.json.
std::string LayoutDigest(const std::string& layout, const std::string& tag);

// skopeo copy --all oci:LAYOUT:TAG docker://DEST ("127.0.0.1:5000/x:tag").
// `creds` is "user:pass" or empty.
void PushLayout(const std::string& layout, const std::string& tag, const std::string& dest,
                const std::string& creds = "");

}  // namespace banger::testing
