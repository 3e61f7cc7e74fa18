#include "duravip/report.h"

#include <charconv>
#include <vector>

#include "common/net/cidr.h"

namespace ec::duravip {
namespace {

constexpr std::string_view kReport = "duravip-report 1";
constexpr std::string_view kMove = "duravip-move 1";
constexpr std::string_view kAnnounce = "duravip-announce 1";

// Names and kinds go on the wire as single words; "-" stands for empty.
std::string Word(const std::string& s) { return s.empty() ? "-" : s; }
std::string FromWord(std::string_view s) { return s == "-" ? "" : std::string(s); }

bool ValidWord(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  }
  return true;
}

bool ValidAddress(std::string_view s) {
  auto ip = net::IpAddress::Parse(s);
  return ip && ip->ToString() == s;  // canonical text only, so every member compares alike
}

std::vector<std::string_view> Split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    size_t j = line.find(' ', i);
    if (j == std::string_view::npos) j = line.size();
    out.push_back(line.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

Status Bad(std::string why) { return InvalidArgument("bad DuraVIP message: " + why); }

}  // namespace

std::string EncodeMessage(const Message& message) {
  std::string out;
  if (const auto* r = std::get_if<ReportMessage>(&message)) {
    out = std::string(kReport) + "\nnode " + r->report.node + "\ntakeovers " +
          std::to_string(r->takeovers) + "\n";
    for (const std::string& a : r->report.held) out += "held " + a + "\n";
    for (const std::string& n : r->sees) out += "sees " + n + "\n";
    for (const VipConfig& v : r->report.configured) {
      out += "vip " + v.address + " " + Word(v.kind) + " " + Word(v.name) + " " +
             Word(v.preference) + "\n";
    }
  } else if (const auto* m = std::get_if<MoveMessage>(&message)) {
    out = std::string(kMove) + "\n" + m->address + " " + m->node + "\n";
  } else {
    out = std::string(kAnnounce) + "\n";
  }
  return out;
}

Result<Message> DecodeMessage(std::string_view payload) {
  if (payload.size() > kMaxMessageSize) return Bad("larger than 256 KiB");
  std::vector<std::string_view> lines;
  size_t i = 0;
  while (i < payload.size()) {
    size_t j = payload.find('\n', i);
    if (j == std::string_view::npos) return Bad("last line has no newline");
    lines.push_back(payload.substr(i, j - i));
    i = j + 1;
  }
  if (lines.empty() || lines[0].rfind("duravip-", 0) != 0) {
    return NotFound("not a DuraVIP message");
  }
  if (lines[0] == kAnnounce) {
    if (lines.size() != 1) return Bad("announce takes no lines");
    return Message(AnnounceMessage{});
  }
  if (lines[0] == kMove) {
    if (lines.size() != 2) return Bad("move takes one line");
    auto f = Split(lines[1]);
    if (f.size() != 2 || !ValidAddress(f[0]) || !ValidWord(f[1])) {
      return Bad("move needs '<address> <node>'");
    }
    return Message(MoveMessage{std::string(f[0]), std::string(f[1])});
  }
  if (lines[0] != kReport) return Bad("unknown type or version '" + std::string(lines[0]) + "'");
  ReportMessage r;
  bool have_node = false, have_takeovers = false;
  size_t vips = 0;
  for (size_t n = 1; n < lines.size(); ++n) {
    auto f = Split(lines[n]);
    if (f.empty()) return Bad("empty line");
    if (f[0] == "node" && f.size() == 2 && ValidWord(f[1]) && !have_node) {
      r.report.node = std::string(f[1]);
      have_node = true;
    } else if (f[0] == "takeovers" && f.size() == 2 && !have_takeovers) {
      auto [p, ec] = std::from_chars(f[1].data(), f[1].data() + f[1].size(), r.takeovers);
      if (ec != std::errc() || p != f[1].data() + f[1].size()) return Bad("takeovers");
      have_takeovers = true;
    } else if (f[0] == "sees" && f.size() == 2 && ValidWord(f[1])) {
      if (r.sees.size() >= kMaxVipsPerReport) return Bad("too many members");
      r.sees.push_back(std::string(f[1]));
    } else if (f[0] == "held" && f.size() == 2 && ValidAddress(f[1])) {
      if (r.report.held.size() >= kMaxVipsPerReport) return Bad("too many addresses");
      r.report.held.insert(std::string(f[1]));
    } else if (f[0] == "vip" && f.size() == 5 && ValidAddress(f[1]) &&
               (f[2] == "listen" || f[2] == "binding") && ValidWord(f[3]) && ValidWord(f[4])) {
      if (++vips > 2 * kMaxVipsPerReport) return Bad("too many addresses");
      r.report.configured.push_back({.address = std::string(f[1]),
                                     .kind = std::string(f[2]),
                                     .name = FromWord(f[3]),
                                     .preference = FromWord(f[4])});
    } else {
      return Bad("line " + std::to_string(n + 1) + " not understood");
    }
  }
  if (!have_node) return Bad("no node line");
  return Message(std::move(r));
}

}  // namespace ec::duravip
