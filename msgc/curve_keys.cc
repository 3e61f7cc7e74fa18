#include "msgc/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "common/daemon/unique_fd.h"

namespace ec::msgc {
namespace {

constexpr size_t kBinaryKeyLength = 32;

using Fd = daemon::UniqueFd;

std::string Trim(std::string_view s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  const auto end = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(begin, end - begin + 1));
}

// Writes `content` to `path` through a temporary file and rename(2), so a reader never sees a
// half-written key.
Status WriteFileAtomically(const std::string& path, const std::string& content, mode_t mode) {
  const std::string tmp = path + ".tmp";
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (fd.get() < 0) return ErrnoStatus("creating " + tmp, errno);
  if (::fchmod(fd.get(), mode) != 0) return ErrnoStatus("chmod " + tmp, errno);
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("writing " + tmp, errno);
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return ErrnoStatus("fsync " + tmp, errno);
  if (::close(fd.Release()) != 0) return ErrnoStatus("closing " + tmp, errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoStatus("renaming " + tmp, errno);
  return Status::Ok();
}

Result<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus("opening " + path, errno);
  std::ostringstream content;
  content << in.rdbuf();
  if (content.str().size() > 4096) return InvalidArgument(path + ": too large for a key file");
  return content.str();
}

}  // namespace

bool IsValidZ85Key(std::string_view key) { return Z85ToBinary(key).ok(); }

Result<std::string> Z85ToBinary(std::string_view z85) {
  if (z85.size() != kZ85KeyLength) {
    return InvalidArgument("a CURVE key is 40 Z85 characters, got " + std::to_string(z85.size()));
  }
  const std::string text(z85);  // zmq_z85_decode needs a terminated string
  std::string binary(kBinaryKeyLength, '\0');
  if (zmq_z85_decode(reinterpret_cast<uint8_t*>(binary.data()), text.c_str()) == nullptr) {
    return InvalidArgument("not a Z85-encoded CURVE key");
  }
  return binary;
}

std::string BinaryToZ85(std::string_view binary) {
  EC_CHECK(binary.size() == kBinaryKeyLength);
  char text[kZ85KeyLength + 1];
  EC_CHECK(zmq_z85_encode(text, reinterpret_cast<const uint8_t*>(binary.data()), binary.size()) !=
           nullptr);
  return std::string(text, kZ85KeyLength);
}

Result<KeyPair> GenerateKeyPair() {
  char public_key[kZ85KeyLength + 1];
  char secret_key[kZ85KeyLength + 1];
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    return Internal(std::string("zmq_curve_keypair: ") + zmq_strerror(zmq_errno()));
  }
  return KeyPair{std::string(public_key, kZ85KeyLength), std::string(secret_key, kZ85KeyLength)};
}

Result<std::string> PublicKeyFor(std::string_view secret_key) {
  if (!IsValidZ85Key(secret_key)) return InvalidArgument("secret key is not a Z85 CURVE key");
  const std::string secret(secret_key);
  char public_key[kZ85KeyLength + 1];
  if (zmq_curve_public(public_key, secret.c_str()) != 0) {
    return Internal(std::string("zmq_curve_public: ") + zmq_strerror(zmq_errno()));
  }
  return std::string(public_key, kZ85KeyLength);
}

Status WriteSecretKeyFile(const std::string& path, const KeyPair& pair) {
  EC_ASSIGN_OR_RETURN(std::string derived, PublicKeyFor(pair.secret_key));
  if (derived != pair.public_key) return InvalidArgument("public key does not match secret key");
  return WriteFileAtomically(path,
                             "# ec_msgc CURVE key pair of this host. Keep it secret.\n"
                             "public = " +
                                 pair.public_key + "\nsecret = " + pair.secret_key + "\n",
                             0600);
}

Status WritePublicKeyFile(const std::string& path, std::string_view public_key) {
  if (!IsValidZ85Key(public_key)) return InvalidArgument("public key is not a Z85 CURVE key");
  return WriteFileAtomically(path, std::string(public_key) + "\n", 0644);
}

Result<KeyPair> ReadSecretKeyFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  if ((st.st_mode & 077) != 0) {
    return Status(StatusCode::kPermissionDenied,
                  path + ": secret key file is readable by group or others (chmod 600 it)");
  }
  EC_ASSIGN_OR_RETURN(std::string content, ReadSmallFile(path));
  KeyPair pair;
  std::istringstream lines(content);
  std::string line;
  int line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    const std::string trimmed = Trim(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    const auto eq = trimmed.find('=');
    const std::string where = path + ":" + std::to_string(line_no);
    if (eq == std::string::npos) return InvalidArgument(where + ": expected `name = key`");
    const std::string name = Trim(trimmed.substr(0, eq));
    const std::string value = Trim(trimmed.substr(eq + 1));
    if (!IsValidZ85Key(value)) return InvalidArgument(where + ": not a Z85 CURVE key");
    if (name == "public") {
      pair.public_key = value;
    } else if (name == "secret") {
      pair.secret_key = value;
    } else {
      return InvalidArgument(where + ": unknown entry `" + name + "`");
    }
  }
  if (pair.secret_key.empty()) return InvalidArgument(path + ": no `secret = ` line");
  EC_ASSIGN_OR_RETURN(std::string derived, PublicKeyFor(pair.secret_key));
  if (!pair.public_key.empty() && pair.public_key != derived) {
    return InvalidArgument(path + ": public key does not match the secret key");
  }
  pair.public_key = derived;
  return pair;
}

Result<std::string> ReadPublicKeyFile(const std::string& path) {
  EC_ASSIGN_OR_RETURN(std::string content, ReadSmallFile(path));
  std::istringstream lines(content);
  std::string line;
  while (std::getline(lines, line)) {
    const std::string trimmed = Trim(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    if (!IsValidZ85Key(trimmed)) return InvalidArgument(path + ": not a Z85 CURVE public key");
    return trimmed;
  }
  return InvalidArgument(path + ": no key in file");
}

Result<KeyPair> LoadOrCreateKeyPair(const std::string& secret_path,
                                    const std::string& public_path) {
  struct stat st;
  if (::stat(secret_path.c_str(), &st) == 0) return ReadSecretKeyFile(secret_path);
  if (errno != ENOENT) return ErrnoStatus("stat " + secret_path, errno);
  EC_ASSIGN_OR_RETURN(KeyPair pair, GenerateKeyPair());
  EC_RETURN_IF_ERROR(WriteSecretKeyFile(secret_path, pair));
  if (!public_path.empty()) EC_RETURN_IF_ERROR(WritePublicKeyFile(public_path, pair.public_key));
  return pair;
}

Result<std::map<std::string, std::string>> ReadPeerPublicKeys(
    const std::string& dir, const std::vector<std::string>& names) {
  std::map<std::string, std::string> keys;
  for (const std::string& name : names) {
    EC_ASSIGN_OR_RETURN(keys[name], ReadPublicKeyFile(dir + "/" + name + ".pub"));
  }
  return keys;
}

std::map<std::string, std::string> ReadMemberKeys(
    const std::string& dir, const std::vector<std::string>& names,
    const std::function<void(std::string_view line)>& log, std::string_view log_prefix) {
  std::map<std::string, std::string> keys;
  for (const std::string& name : names) {
    auto key = ReadPublicKeyFile(dir + "/" + name + ".pub");
    if (!key.ok()) {
      if (log) {
        log(std::string(log_prefix) + ": event=peer_key_missing peer=" + name + " error=\"" +
            key.status().message() + "\"");
      }
      continue;
    }
    keys[name] = *key;
  }
  return keys;
}

}  // namespace ec::msgc
