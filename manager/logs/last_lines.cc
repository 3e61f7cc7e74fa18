#include "manager/logs/last_lines.h"

#include <algorithm>
#include <fstream>

namespace ec::logcollect {

size_t ForEachWholeLine(std::string_view text, const std::function<void(std::string_view)>& line) {
  size_t start = 0, nl;
  while ((nl = text.find('\n', start)) != std::string_view::npos) {
    line(text.substr(start, nl - start));
    start = nl + 1;
  }
  return start;
}

LastLines ReadLastLines(const std::string& path, size_t count, uint64_t max_bytes) {
  constexpr uint64_t kBlock = 64 * 1024;
  LastLines out;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return out;
  const auto size_pos = in.tellg();
  if (size_pos <= 0) return out;
  const uint64_t size = static_cast<uint64_t>(size_pos);
  // Blocks are prepended until the window holds count+1 newlines (count lines and the end of
  // the one before them), reaches the file's start, or the bound.
  std::string window;
  uint64_t from = size;
  size_t newlines = 0;
  while (from > 0 && newlines <= count) {
    uint64_t want = std::min(kBlock, from);
    if (max_bytes > 0) want = std::min(want, max_bytes - out.bytes_read);
    if (want == 0) break;
    from -= want;
    std::string block(want, '\0');
    in.seekg(static_cast<std::streamoff>(from));
    if (!in.read(block.data(), static_cast<std::streamsize>(want))) break;
    out.bytes_read += want;
    newlines += static_cast<size_t>(std::count(block.begin(), block.end(), '\n'));
    window.insert(0, block);
  }
  std::string_view text(window);
  if (from > 0) {
    // The window starts inside a line: skip to the first whole one.
    const size_t first = text.find('\n');
    if (first == std::string_view::npos) {
      out.end = size - text.size();
      return out;
    }
    text.remove_prefix(first + 1);
  }
  std::vector<std::string_view> all;
  const size_t used = ForEachWholeLine(text, [&](std::string_view l) { all.push_back(l); });
  const size_t skip = all.size() > count ? all.size() - count : 0;
  out.lines.assign(all.begin() + static_cast<std::ptrdiff_t>(skip), all.end());
  out.end = size - (text.size() - used);
  return out;
}

}  // namespace ec::logcollect
