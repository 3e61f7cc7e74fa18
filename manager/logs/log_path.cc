#include "manager/logs/log_path.h"

#include <cstdint>
#include <regex>

namespace ec::logcollect {
namespace {

constexpr std::string_view kTimeConversions = "YmdHMSj";

std::string RegexEscape(char c) {
  static const std::string_view special = R"(\^$.|?*+()[]{})";
  return special.find(c) != std::string_view::npos ? std::string("\\") + c : std::string(1, c);
}

}  // namespace

Status CheckPathName(std::string_view what, std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos || name.size() > 128) {
    return InvalidArgument(std::string(what) + " \"" + std::string(name) +
                           "\" cannot be used in a log file name");
  }
  return Status::Ok();
}

std::time_t LineTime(std::string_view line, std::time_t fallback) {
  // Ten digits until 2286; more than 11 is not a time we wrote, and could overflow.
  int64_t t = 0;
  size_t digits = 0;
  while (digits < line.size() && line[digits] >= '0' && line[digits] <= '9') {
    if (++digits > 11) return fallback;
    t = t * 10 + (line[digits - 1] - '0');
  }
  if (digits == 0 || digits == line.size() || t == 0) return fallback;
  const char next = line[digits];
  if (next != '@' && next != ':' && next != ' ') return fallback;
  return static_cast<std::time_t>(t);
}

Result<std::string> ExpandLogfilePattern(std::string_view pattern, const LogFileName& name,
                                         std::time_t when) {
  EC_RETURN_IF_ERROR(CheckPathName("log", name.log));
  EC_RETURN_IF_ERROR(CheckPathName("subcluster", name.subcluster));
  EC_RETURN_IF_ERROR(CheckPathName("node", name.node));
  std::tm tm{};
  gmtime_r(&when, &tm);
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c != '%') {
      out += c;
      continue;
    }
    if (i + 1 >= pattern.size()) return InvalidArgument("logfile pattern ends with '%'");
    char k = pattern[++i];
    if (k == '%') {
      out += '%';
    } else if (k == '{') {
      size_t close = pattern.find('}', i);
      std::string_view field =
          pattern.substr(i + 1, close == std::string_view::npos ? 0 : close - i - 1);
      if (close == std::string_view::npos) return InvalidArgument("logfile pattern: unclosed %{");
      if (field == "l")
        out += name.log;
      else if (field == "s")
        out += name.subcluster;
      else if (field == "n")
        out += name.node;
      else
        return InvalidArgument("logfile pattern: unknown field %{" + std::string(field) + "}");
      i = close;
    } else if (kTimeConversions.find(k) != std::string_view::npos) {
      char buf[16];
      const char fmt[3] = {'%', k, '\0'};
      size_t n = std::strftime(buf, sizeof buf, fmt, &tm);
      out.append(buf, n);
    } else {
      return InvalidArgument(std::string("logfile pattern: unknown conversion %") + k);
    }
  }
  if (out.empty() || out.front() == '/' || out.find("..") != std::string::npos) {
    return InvalidArgument("logfile pattern \"" + std::string(pattern) +
                           "\" must give a path inside the log root");
  }
  return out;
}

std::optional<LogFileName> MatchLogfilePattern(std::string_view pattern, std::string_view path) {
  std::string re;
  int groups[3] = {0, 0, 0};  // capture index of l, s, n
  int next = 1;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c != '%' || i + 1 >= pattern.size()) {
      re += RegexEscape(c);
      continue;
    }
    char k = pattern[++i];
    if (k == '{') {
      size_t close = pattern.find('}', i);
      if (close == std::string_view::npos) return std::nullopt;
      std::string_view field = pattern.substr(i + 1, close - i - 1);
      int slot = field == "l" ? 0 : field == "s" ? 1 : field == "n" ? 2 : -1;
      if (slot < 0) return std::nullopt;
      if (groups[slot] == 0) {
        groups[slot] = next++;
        re += "([^/]+)";
      } else {
        re += "\\" + std::to_string(groups[slot]);
      }
      i = close;
    } else if (k == '%') {
      re += '%';
    } else {
      re += "[0-9]+";
    }
  }
  std::smatch m;
  std::string subject(path);
  if (!std::regex_match(subject, m, std::regex(re))) return std::nullopt;
  LogFileName out;
  if (groups[0]) out.log = m[groups[0]];
  if (groups[1]) out.subcluster = m[groups[1]];
  if (groups[2]) out.node = m[groups[2]];
  return out;
}

}  // namespace ec::logcollect
