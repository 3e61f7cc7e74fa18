#include "manager/dashboard/log_tail.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "manager/logs/log_path.h"
#include "manager/logs/tail.h"
#include "msgc/health_record.h"

namespace ec::manager::dashboard {
namespace {

struct Line {
  std::string_view node, log, text;
  uint64_t time = 0;  // leading unix seconds, or the previous line's of the same file
};

// The digits a Momentum log line starts with ("1733400000@..." or "1733400000 ..."); 0 if none.
uint64_t LeadingTime(std::string_view text) {
  uint64_t value = 0;
  size_t i = 0;
  for (; i < text.size() && i < 19 && text[i] >= '0' && text[i] <= '9'; ++i) {
    value = value * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  return i > 0 && i < text.size() && (text[i] == '@' || text[i] == ' ') ? value : 0;
}

// Cuts at most `max` bytes without splitting a UTF-8 sequence.
std::string_view Cut(std::string_view text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

Result<LogQuery> ParseLogQuery(std::string_view node, std::string_view log,
                               std::string_view lines) {
  LogQuery q;
  if (!node.empty()) EC_RETURN_IF_ERROR(logcollect::CheckPathName("node", node));
  if (!log.empty()) EC_RETURN_IF_ERROR(logcollect::CheckPathName("log", log));
  q.node = std::string(node);
  q.log = std::string(log);
  if (!lines.empty()) {
    const std::string text(lines);
    char* end = nullptr;
    const unsigned long n = std::strtoul(text.c_str(), &end, 10);
    if (text.front() < '0' || text.front() > '9' || *end != '\0' || n < 1 || n > kMaxTailLines) {
      return InvalidArgument("lines: expected 1.." + std::to_string(kMaxTailLines));
    }
    q.lines = n;
  }
  return q;
}

std::string RenderTail(std::string_view tail, size_t max_lines) {
  std::vector<Line> lines;
  std::string_view file_node, file_log;
  uint64_t file_time = 0;
  size_t start = 0;
  while (start < tail.size()) {
    size_t nl = tail.find('\n', start);
    if (nl == std::string_view::npos) nl = tail.size();
    const std::string_view raw = tail.substr(start, nl - start);
    start = nl + 1;
    // Node and log names hold no space or ": " (they are file names from the pattern).
    const size_t space = raw.find(' ');
    const size_t colon = raw.find(": ", space == std::string_view::npos ? 0 : space);
    if (space == std::string_view::npos || colon == std::string_view::npos) continue;
    Line l{raw.substr(0, space), raw.substr(space + 1, colon - space - 1), raw.substr(colon + 2)};
    if (l.node != file_node || l.log != file_log) file_time = 0;  // the next file
    file_node = l.node;
    file_log = l.log;
    if (uint64_t t = LeadingTime(l.text)) file_time = t;
    l.time = file_time;
    lines.push_back(l);
  }
  // Interleaved by time; within one second (and for lines without a time) file order stays.
  std::stable_sort(lines.begin(), lines.end(),
                   [](const Line& a, const Line& b) { return a.time < b.time; });
  bool truncated = lines.size() > max_lines;
  size_t first = lines.size() > max_lines ? lines.size() - max_lines : 0;
  size_t bytes = 0;
  for (size_t i = lines.size(); i > first; --i) {
    const size_t size = std::min(lines[i - 1].text.size(), kMaxTailLineBytes);
    if (bytes + size > kMaxTailBytes) {
      first = i;
      truncated = true;
      break;
    }
    bytes += size;
  }
  std::string out = "{\"lines\":[";
  for (size_t i = first; i < lines.size(); ++i) {
    const Line& l = lines[i];
    const std::string_view text = Cut(l.text, kMaxTailLineBytes);
    if (text.size() < l.text.size()) truncated = true;
    out += (i == first ? "{" : ",{");
    out += "\"node\":" + msgc::JsonQuote(l.node) + ",\"log\":" + msgc::JsonQuote(l.log) +
           ",\"text\":" + msgc::JsonQuote(text) + "}";
  }
  out += "],\"truncated\":" + std::string(truncated ? "true" : "false") + "}\n";
  return out;
}

Result<std::string> TailJson(const std::string& log_root, const std::string& pattern,
                             const LogQuery& query, uint64_t* bytes_read) {
  logcollect::TailOptions options;
  options.log_root = log_root;
  options.pattern = pattern;
  options.node = query.node;
  options.log = query.log;
  options.lines = query.lines;
  options.max_read_per_file = kMaxTailReadPerFile;
  options.max_read_total = kMaxTailReadTotal;
  std::ostringstream out;
  Status s = logcollect::RunTail(options, out, bytes_read);
  if (s.code() == StatusCode::kNotFound) return RenderTail("", query.lines);
  EC_RETURN_IF_ERROR(s);
  return RenderTail(out.str(), query.lines);
}

}  // namespace ec::manager::dashboard
