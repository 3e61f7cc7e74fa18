// CURVE key pairs for the bus: each host makes its own pair once and keeps the secret key in a
// file only it can read (mode 0600); the public key goes into the config repository
// (global/msgc_keys/<node>.pub) so every peer can pin it. Keys are kept as 40-character Z85
// text (ZeroMQ's encoding of the 32-byte Curve25519 keys). Plain functions; any thread.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ec::msgc {

inline constexpr size_t kZ85KeyLength = 40;

struct KeyPair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
};

bool IsValidZ85Key(std::string_view key);
// 32 raw key bytes <-> 40 Z85 characters.
Result<std::string> Z85ToBinary(std::string_view z85);
std::string BinaryToZ85(std::string_view binary);

Result<KeyPair> GenerateKeyPair();
// The public key that belongs to `secret_key` (both Z85).
Result<std::string> PublicKeyFor(std::string_view secret_key);

// Secret key file: "public = <z85>" and "secret = <z85>" lines ('#' comments allowed), written
// atomically with mode 0600. Public key file: one line holding the Z85 public key.
Status WriteSecretKeyFile(const std::string& path, const KeyPair& pair);
Status WritePublicKeyFile(const std::string& path, std::string_view public_key);
// Refuses a secret key file that group or others can read, or whose public key does not match.
Result<KeyPair> ReadSecretKeyFile(const std::string& path);
Result<std::string> ReadPublicKeyFile(const std::string& path);

// Loads `<secret_path>` or, if it does not exist, generates a pair and writes it there (and the
// public half to `public_path` when that is not empty). Used at first start of a host.
Result<KeyPair> LoadOrCreateKeyPair(const std::string& secret_path, const std::string& public_path);

// The committed public keys (<dir>/<name>.pub) of `names`, by name. A member whose key file is
// missing or bad is left out and logged through `log` (one line), so it alone cannot connect
// until its key is committed; the bus and the ECCluster listener both read keys this way.
std::map<std::string, std::string> ReadMemberKeys(
    const std::string& dir, const std::vector<std::string>& names,
    const std::function<void(std::string_view line)>& log, std::string_view log_prefix);

// `<dir>/<name>.pub` for every name. kNotFound names the first missing file.
Result<std::map<std::string, std::string>> ReadPeerPublicKeys(
    const std::string& dir, const std::vector<std::string>& names);

}  // namespace ec::msgc
