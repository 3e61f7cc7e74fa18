#include "ecconfigd/enrol_package.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <regex>

#include "ecconfigd/enrol_tokens.h"
#include "msgc/node_name.h"

namespace ec::ecconfigd {
namespace {

uint32_t Crc32(std::string_view data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : data) crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

void PutLe32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// An octal field of `size` bytes (digits, then NUL), as ustar wants.
void Octal(char* field, size_t size, uint64_t value) {
  std::snprintf(field, size, "%0*llo", static_cast<int>(size - 1),
                static_cast<unsigned long long>(value));
}

std::string TarHeader(const PackageFile& f) {
  char h[512] = {};
  std::memcpy(h, f.path.data(), f.path.size());
  Octal(h + 100, 8, f.mode & 07777);
  Octal(h + 108, 8, 0);
  Octal(h + 116, 8, 0);
  Octal(h + 124, 12, f.content.size());
  Octal(h + 136, 12, static_cast<uint64_t>(std::time(nullptr)));
  std::memset(h + 148, ' ', 8);  // the checksum counts its own field as spaces
  h[156] = '0';
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  std::memcpy(h + 265, "root", 4);
  std::memcpy(h + 297, "root", 4);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h + 148, 8, "%06o", sum);
  return std::string(h, sizeof h);
}

}  // namespace

bool ValidPackagePath(std::string_view path) {
  if (path.empty() || path.size() >= 100 || path.front() == '/' || path.back() == '/') {
    return false;
  }
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (part.empty() || part == "." || part == "..") return false;
    bool ok = std::all_of(part.begin(), part.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
    if (!ok) return false;
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  return true;
}

std::vector<PackageFile> ClonePackageFiles(std::string_view node, std::string_view subcluster,
                                           std::string_view repo, std::string_view certificate) {
  // The keys eccfg's cluster.boot reads (eccfg/cluster_boot.h).
  std::string boot = "# written by ecconfigd for the enrolment of " + std::string(node) +
                     "; eccfg enrol completes it\ncluster_name=" + std::string(subcluster) +
                     "\nnode_name=" + std::string(node) + "\nrepo=" + std::string(repo) +
                     "\nautoupdate=true\nreload_config_on_update=true\n";
  return {{"etc/cluster.boot", std::move(boot), 0644},
          {"etc/ecconfigd.crt", std::string(certificate), 0644}};
}

Result<std::string> BuildTarGz(const std::vector<PackageFile>& files) {
  std::string tar;
  for (const PackageFile& f : files) {
    if (!ValidPackagePath(f.path)) return InvalidArgument("bad package path " + f.path);
    tar += TarHeader(f);
    tar += f.content;
    tar.append((512 - f.content.size() % 512) % 512, '\0');
  }
  tar.append(1024, '\0');  // two zero blocks end the archive
  // gzip (RFC 1952) around deflate stored blocks (RFC 1951 3.2.4), each at most 65535 bytes.
  std::string out = {'\x1f', '\x8b', '\x08', '\0', '\0', '\0', '\0', '\0', '\0', '\x03'};
  for (size_t at = 0; at < tar.size();) {
    size_t n = std::min<size_t>(65535, tar.size() - at);
    bool last = at + n == tar.size();
    out.push_back(last ? '\x01' : '\0');
    uint16_t len = static_cast<uint16_t>(n), nlen = static_cast<uint16_t>(~len);
    out.push_back(static_cast<char>(len & 0xFF));
    out.push_back(static_cast<char>(len >> 8));
    out.push_back(static_cast<char>(nlen & 0xFF));
    out.push_back(static_cast<char>(nlen >> 8));
    out.append(tar, at, n);
    at += n;
  }
  PutLe32(out, Crc32(tar));
  PutLe32(out, static_cast<uint32_t>(tar.size()));
  return out;
}

Result<std::string> AddBusPeer(std::string_view conf, std::string_view node,
                               std::string_view address) {
  if (!msgc::IsValidNodeName(node) || !ValidPeerAddress(address)) {
    return InvalidArgument("bad node name or address for the peers list");
  }
  const std::string text(conf);
  // The first `peers = [` outside a comment.
  static const std::regex kPeers(R"((^|\n)[ \t]*peers[ \t]*=[ \t]*\[)");
  std::smatch m;
  if (!std::regex_search(text, m, kPeers)) {
    return FailedPrecondition("global/msgc_server.conf has no peers = [ ... ] list");
  }
  size_t open = static_cast<size_t>(m.position(0) + m.length(0));
  size_t close = std::string::npos;
  bool quoted = false, comment = false;
  for (size_t i = open; i < text.size(); ++i) {
    char c = text[i];
    if (comment) {
      comment = c != '\n';
    } else if (quoted) {
      quoted = c != '"';
    } else if (c == '"') {
      quoted = true;
    } else if (c == '#') {
      comment = true;
    } else if (c == ']') {
      close = i;
      break;
    }
  }
  if (close == std::string::npos) return FailedPrecondition("the peers list has no closing ]");
  std::string entry = std::string(node) + " = \"" + std::string(address) + "\"";
  // Listed already (a re-enrolment): the address is replaced in place.
  const std::regex listed("(^|[\\s\\[])" + std::string(node) + "[ \\t]*=[ \\t]*\"[^\"]*\"");
  std::string list = text.substr(open, close - open);
  if (std::regex_search(list, m, listed)) {
    size_t at = open + static_cast<size_t>(m.position(0) + m.length(1));
    size_t len = static_cast<size_t>(m.length(0) - m.length(1));
    return text.substr(0, at) + entry + text.substr(at + len);
  }
  size_t line_start = text.rfind('\n', close);
  line_start = line_start == std::string::npos ? 0 : line_start + 1;
  bool own_line = text.find_first_not_of(" \t", line_start) == close;
  if (!own_line) return text.substr(0, close) + " " + entry + " " + text.substr(close);
  // Indented like the line before the bracket, or four spaces.
  std::string indent = "    ";
  if (line_start >= 2) {
    size_t prev = text.rfind('\n', line_start - 2);
    prev = prev == std::string::npos ? 0 : prev + 1;
    size_t first = text.find_first_not_of(" \t", prev);
    if (first > prev && first < line_start - 1 && prev > open) {
      indent = text.substr(prev, first - prev);
    }
  }
  return text.substr(0, line_start) + indent + entry + "\n" + text.substr(line_start);
}

}  // namespace ec::ecconfigd
