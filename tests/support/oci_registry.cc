#include "tests/support/oci_registry.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "reconciler/oci/reference.h"
#include "reconciler/oci/http_session.h"
#include "reconciler/os/exec.h"
#include "reconciler/os/unique_fd.h"
#include "tests/support/test_env.h"

namespace banger::testing {

namespace {

using nlohmann::json;

void Check(const Status& st) {
  if (!st.ok()) throw std::runtime_error(st.error().message());
}

std::string Run(const std::vector<std::string>& argv) {
  ExecRequest req;
  req.argv = argv;
  req.timeout = std::chrono::minutes(2);
  auto r = RunChecked(req);
  if (!r.ok()) throw std::runtime_error(r.error().message());
  return r->out;
}

std::string Tail(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return "";
  return text->size() > 2000 ? text->substr(text->size() - 2000) : *text;
}

}  // namespace

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
  if (this != &o) {
    Stop();
    pid_ = std::exchange(o.pid_, -1);
  }
  return *this;
}

ChildProcess ChildProcess::Spawn(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env,
                                 const std::string& log_path) {
  UniqueFd log(open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!log.valid()) throw std::runtime_error("open log " + log_path);
  UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, null.get(), 0);
  posix_spawn_file_actions_adddup2(&fa, log.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, log.get(), 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so Stop() also reaches anything it forks.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  std::string program = argv.at(0);
  if (program.find('/') == std::string::npos) program = FindProgram(program);
  if (program.empty()) throw std::runtime_error("program not found: " + argv.at(0));
  pid_t pid = -1;
  int rc = posix_spawn(&pid, program.c_str(), &fa, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("spawn " + DescribeArgv(argv) + ": " + strerror(rc));
  return ChildProcess(pid);
}

bool ChildProcess::Running() {
  if (pid_ <= 0) return false;
  int status;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void ChildProcess::Stop() {
  if (pid_ <= 0) return;
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  int status;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

bool ProcessExists(pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

int FreeLoopbackPort() {
  UniqueFd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    throw std::runtime_error("bind 127.0.0.1:0");
  socklen_t len = sizeof(addr);
  getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

void WaitForHttp(const std::string& url, ChildProcess& child, const std::string& log_path,
                 std::chrono::milliseconds timeout) {
  oci::HttpLimits limits;
  limits.connect_timeout = std::chrono::seconds(2);
  oci::HttpSession session(limits);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!child.Running())
      throw std::runtime_error("server for " + url + " exited: " + Tail(log_path));
    oci::HttpRequest req;
    req.url = url;
    if (session.Perform(req).ok()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("no answer from " + url + ": " + Tail(log_path));
}

std::unique_ptr<OciRegistry> OciRegistry::Start(const OciRegistryOptions& options) {
  std::unique_ptr<OciRegistry> reg(new OciRegistry());
  reg->dir_ = ScratchDir("banger-registry-");
  reg->port_ = FreeLoopbackPort();
  const std::string& dir = reg->dir_.path();
  std::string config = "version: 0.1\n"
                       "log:\n  level: warn\n"
                       "storage:\n  filesystem:\n    rootdirectory: " +
                       JoinPath(dir, "storage") +
                       "\n  delete:\n    enabled: true\n"
                       "http:\n  addr: 127.0.0.1:" + std::to_string(reg->port_) +
                       "\n  secret: banger-test-secret\n";
  if (!options.htpasswd_user.empty()) {
    std::string htpasswd = JoinPath(dir, "htpasswd");
    std::string line = Run({"htpasswd", "-nbB", options.htpasswd_user, options.htpasswd_password});
    Check(AtomicWriteFile(htpasswd, line));
    config += "auth:\n  htpasswd:\n    realm: banger-test\n    path: " + htpasswd + "\n";
  } else if (!options.token_realm.empty()) {
    config += "auth:\n  token:\n    realm: " + options.token_realm +
              "\n    service: " + options.token_service +
              "\n    issuer: " + options.token_issuer +
              "\n    rootcertbundle: " + options.token_rootcert + "\n";
  }
  std::string config_path = JoinPath(dir, "config.yml");
  Check(AtomicWriteFile(config_path, config));
  std::string log = JoinPath(dir, "registry.log");
  reg->process_ = ChildProcess::Spawn({"docker-registry", "serve", config_path},
                                      DefaultEnvironment(), log);
  WaitForHttp("http://" + reg->host() + "/v2/", reg->process_, log);
  return reg;
}

void BuildLayoutImage(const std::string& layout, const LayoutImage& image) {
  if (!PathExists(JoinPath(layout, "index.json"))) Run({"umoci", "init", "--layout", layout});
  std::string ref = layout + ":" + image.tag;
  Run({"umoci", "new", "--image", ref});
  for (const auto& layer : image.layers)
    Run({"umoci", "raw", "add-layer", "--no-history", "--image", ref, layer});
  std::vector<std::string> argv = {"umoci", "config", "--no-history", "--image", ref,
                                   "--os", image.os, "--architecture", image.architecture};
  argv.insert(argv.end(), image.config_flags.begin(), image.config_flags.end());
  Run(argv);
}

std::string LayoutDigest(const std::string& layout, const std::string& tag) {
  auto text = ReadFile(JoinPath(layout, "index.json"));
  Check(text.ok() ? OkStatus() : Status(text.error()));
  json doc = json::parse(*text);
  for (const auto& m : doc.at("manifests"))
    if (m.value("annotations", json::object()).value("org.opencontainers.image.ref.name", "") == tag)
      return m.at("digest").get<std::string>();
  throw std::runtime_error("tag " + tag + " not in " + layout);
}

std::string AddLayoutIndex(const std::string& layout, const std::string& index_tag,
                           const std::vector<std::string>& tags) {
  auto blob = [&](const std::string& digest) {
    auto text = ReadFile(JoinPath(layout, "blobs/sha256/" + digest.substr(7)));
    Check(text.ok() ? OkStatus() : Status(text.error()));
    return *text;
  };
  json manifests = json::array();
  for (const auto& tag : tags) {
    std::string digest = LayoutDigest(layout, tag);
    std::string manifest = blob(digest);
    json config = json::parse(blob(json::parse(manifest).at("config").at("digest")));
    manifests.push_back({{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                         {"digest", digest},
                         {"size", manifest.size()},
                         {"platform", {{"os", config.at("os")},
                                       {"architecture", config.at("architecture")}}}});
  }
  std::string index = json{{"schemaVersion", 2},
                           {"mediaType", "application/vnd.oci.image.index.v1+json"},
                           {"manifests", manifests}}
                          .dump();
  std::string digest = oci::Sha256Digest(index);
  Check(AtomicWriteFile(JoinPath(layout, "blobs/sha256/" + digest.substr(7)), index));
  std::string index_path = JoinPath(layout, "index.json");
  auto top_text = ReadFile(index_path);
  Check(top_text.ok() ? OkStatus() : Status(top_text.error()));
  json top = json::parse(*top_text);
  top["manifests"].push_back({{"mediaType", "application/vnd.oci.image.index.v1+json"},
                              {"digest", digest},
                              {"size", index.size()},
                              {"annotations", {{"org.opencontainers.image.ref.name", index_tag}}}});
  Check(AtomicWriteFile(index_path, top.dump()));
  return digest;
}

void PushLayout(const std::string& layout, const std::string& tag, const std::string& dest,
                const std::string& creds) {
  std::vector<std::string> argv = {"skopeo", "copy", "--all", "--dest-tls-verify=false"};
  if (!creds.empty()) {
    argv.push_back("--dest-creds");
    argv.push_back(creds);
  }
  argv.push_back("oci:" + layout + ":" + tag);
  argv.push_back("docker://" + dest);
  Run(argv);
}

}  // namespace banger::testing
