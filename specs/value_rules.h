// Rules for single values of the spec format, shared by the loader and by
// anything else that accepts the same values (the CLI, the root helper).
// Each check returns an InvalidArgument error whose message quotes the value
// and says what would be accepted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "reconciler/base/error.h"

namespace banger::specs {

// Object names: ^[a-z0-9][a-z0-9-]{0,31}$
Status CheckName(std::string_view name);
// Label keys: ^[a-z0-9][a-z0-9_.-]{0,62}$
Status CheckLabelKey(std::string_view key);
// A Linux network interface name of at most 15 characters.
Status CheckInterfaceName(std::string_view name);
// An IPv4 network "a.b.c.d/N" with N in 16..29 and no host bits set.
Status CheckSubnet(std::string_view cidr);
// A guest path under /root: "/root/x" or "~/x", never /root itself, no "..".
Status CheckGuestPath(std::string_view path);
// 64 hexadecimal digits.
Status CheckSha256(std::string_view digest);
// A git branch or commit-ish such as "main", "v1.2" or "HEAD~1": 1 to 255
// printable characters, not starting with '-', without spaces or "..".
Status CheckGitRef(std::string_view ref);
// A Debian package name such as "linux-image-cloud-amd64".
Status CheckPackageName(std::string_view name);
// A Debian suite or codename such as "bookworm" or "stable".
Status CheckSuite(std::string_view suite);
// An http:// or https:// URL (https only when `https_only`).
Status CheckUrl(std::string_view url, bool https_only);
// An OCI image reference: "[registry/]repository[:tag][@digest]".
Status CheckOciReference(std::string_view ref);
// An OCI platform "os/arch" or "os/arch/variant".
Status CheckPlatform(std::string_view platform);
// A kernel catalog entry name: ^[a-z0-9][a-z0-9._-]{0,63}$
Status CheckCatalogName(std::string_view name);
// File modes: octal digits "0644" / "644", at most 0777.
Result<uint32_t> ParseMode(std::string_view octal);
// File modes given as a number (TOML 0o644 or decimal 420), at most 0777.
Result<uint32_t> CheckMode(int64_t mode);

// Host paths in a spec: absolute and `~` paths are kept as written; a
// relative path is joined to `base_dir` and normalised lexically.
std::string ResolveHostPath(const std::string& path, const std::string& base_dir);

}  // namespace banger::specs
