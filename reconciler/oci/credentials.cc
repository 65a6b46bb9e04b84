#include "reconciler/oci/credentials.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "reconciler/os/fs.h"

namespace banger::oci {

namespace {

using nlohmann::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Keys a config.json may use for `registry`. Docker Hub has historical
// spellings; any other registry matches its host[:port] with or without a
// scheme.
std::vector<std::string> ConfigKeysFor(std::string_view registry) {
  if (registry == "docker.io")
    return {"https://index.docker.io/v1/", "index.docker.io", "docker.io",
            "registry-1.docker.io", "https://index.docker.io/v1"};
  std::string r(registry);
  return {r, "https://" + r, "http://" + r, "https://" + r + "/", "http://" + r + "/",
          "https://" + r + "/v2/", "http://" + r + "/v2/"};
}

}  // namespace

std::string Base64Encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(n);
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  std::string in(text);
  while (!in.empty() && (in.back() == '\n' || in.back() == ' ')) in.pop_back();
  if (in.size() % 4) return Error(Code::kCorruption, "base64 length is not a multiple of 4");
  std::string out(3 * in.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return Error(Code::kCorruption, "invalid base64");
  // EVP_DecodeBlock counts padding as zero bytes.
  size_t pad = 0;
  if (!in.empty() && in.back() == '=') ++pad;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

Result<std::optional<Credentials>> FindDockerCredentials(std::string_view config_text,
                                                         std::string_view registry,
                                                         std::string_view source) {
  auto bad = [&](const std::string& why) {
    return Error(Code::kCorruption, "docker config " + Quote(source) + ": " + why);
  };
  try {
    json doc = json::parse(config_text);
    if (!doc.is_object()) return bad("not a JSON object");
    auto auths = doc.find("auths");
    if (auths == doc.end() || !auths->is_object()) return std::optional<Credentials>();
    for (const auto& key : ConfigKeysFor(registry)) {
      auto entry = auths->find(key);
      if (entry == auths->end() || !entry->is_object()) continue;
      Credentials c;
      if (auto auth = entry->find("auth"); auth != entry->end() && auth->is_string() &&
                                           !auth->get<std::string>().empty()) {
        auto decoded = Base64Decode(auth->get<std::string>());
        if (!decoded.ok()) return bad("auths." + key + ".auth: " + decoded.error().message());
        size_t colon = decoded->find(':');
        if (colon == std::string::npos) return bad("auths." + key + ".auth is not user:password");
        c.username = decoded->substr(0, colon);
        c.password = decoded->substr(colon + 1);
      } else {
        c.username = entry->value("username", "");
        c.password = entry->value("password", "");
      }
      if (c.username.empty()) continue;
      return std::optional<Credentials>(std::move(c));
    }
    return std::optional<Credentials>();
  } catch (const json::exception& e) {
    return bad(e.what());
  }
}

Result<std::optional<Credentials>> LoadDockerCredentials(const std::string& path,
                                                         std::string_view registry) {
  if (!PathExists(path)) return std::optional<Credentials>();
  BANGER_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return FindDockerCredentials(text, registry, path);
}

std::string DefaultDockerConfigPath() { return JoinPath(HomeDir(), ".docker/config.json"); }

std::string Challenge::Param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

Result<Challenge> ParseChallenge(std::string_view header) {
  auto bad = [&](const std::string& why) {
    return Error(Code::kCorruption, "WWW-Authenticate " + Quote(header) + ": " + why);
  };
  Challenge ch;
  size_t i = header.find_first_not_of(' ');
  if (i == std::string_view::npos) return bad("empty");
  size_t sp = header.find(' ', i);
  ch.scheme = Lower(header.substr(i, sp == std::string_view::npos ? sp : sp - i));
  if (sp == std::string_view::npos) return ch;
  i = sp;
  while (i < header.size()) {
    while (i < header.size() && (header[i] == ' ' || header[i] == ',')) ++i;
    if (i >= header.size()) break;
    size_t eq = header.find('=', i);
    if (eq == std::string_view::npos) return bad("parameter without '='");
    std::string name = Lower(header.substr(i, eq - i));
    while (!name.empty() && name.back() == ' ') name.pop_back();
    i = eq + 1;
    std::string value;
    if (i < header.size() && header[i] == '"') {
      ++i;
      for (; i < header.size() && header[i] != '"'; ++i) {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        value.push_back(header[i]);
      }
      if (i >= header.size()) return bad("unterminated quoted value");
      ++i;
    } else {
      size_t end = header.find(',', i);
      if (end == std::string_view::npos) end = header.size();
      value = std::string(header.substr(i, end - i));
      while (!value.empty() && value.back() == ' ') value.pop_back();
      i = end;
    }
    ch.params[name] = value;
  }
  return ch;
}

}  // namespace banger::oci
