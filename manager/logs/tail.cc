#include "manager/logs/tail.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "manager/logs/last_lines.h"

namespace ec::logcollect {
namespace fs = std::filesystem;
namespace {

struct Followed {
  LogFileName name;
  uint64_t offset = 0;
  std::string partial;  // a line the collector has not finished writing yet
};

// Every file under the root that has the pattern's shape and passes the filters, by path.
std::map<std::string, LogFileName> Matching(const TailOptions& o) {
  std::map<std::string, LogFileName> out;
  std::error_code ec;
  if (!fs::is_directory(o.log_root, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(o.log_root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string rel = fs::relative(it->path(), o.log_root, ec).string();
    auto name = MatchLogfilePattern(o.pattern, rel);
    if (!name) continue;
    if (!o.node.empty() && name->node != o.node) continue;
    if (!o.log.empty() && name->log != o.log) continue;
    out.emplace(it->path().string(), *name);
  }
  return out;
}

// Prints the whole lines after f.offset and moves it on.
void PrintNew(const std::string& path, Followed& f, std::ostream& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return;
  in.seekg(static_cast<std::streamoff>(f.offset));
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  f.offset += chunk.size();
  f.partial += chunk;
  const size_t used = ForEachWholeLine(f.partial, [&](std::string_view line) {
    out << f.name.node << " " << f.name.log << ": " << line << "\n";
  });
  f.partial.erase(0, used);
  out.flush();
}

}  // namespace

Result<TailOptions> ParseTailArgs(const std::vector<std::string>& words) {
  TailOptions o;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    auto value = [&](const char* what) -> Result<std::string> {
      if (i + 1 >= words.size()) return InvalidArgument(std::string(what) + " needs a value");
      return words[++i];
    };
    if (w == "-f" || w == "--follow") {
      o.follow = true;
    } else if (w == "--node") {
      EC_ASSIGN_OR_RETURN(o.node, value("--node"));
    } else if (w == "--log") {
      EC_ASSIGN_OR_RETURN(o.log, value("--log"));
    } else if (w == "-n" || w == "--lines") {
      EC_ASSIGN_OR_RETURN(std::string n, value("--lines"));
      char* end = nullptr;
      unsigned long v = std::strtoul(n.c_str(), &end, 10);
      if (n.empty() || *end != '\0' || v > 100000) {
        return InvalidArgument("--lines: expected a number up to 100000, found \"" + n + "\"");
      }
      o.lines = v;
    } else {
      return InvalidArgument("logs tail: unknown argument \"" + w +
                             "\" (usage: logs tail [-f] [--node N] [--log L] [-n LINES])");
    }
  }
  return o;
}

Status RunTail(const TailOptions& o, std::ostream& out, uint64_t* bytes_read) {
  std::error_code ec;
  if (!fs::is_directory(o.log_root, ec)) {
    return NotFound("no aggregated logs under " + o.log_root);
  }
  std::map<std::string, Followed> files;
  uint64_t total = 0;
  for (const auto& [path, name] : Matching(o)) {
    uint64_t bound = o.max_read_per_file;
    if (o.max_read_total > 0) {
      if (total >= o.max_read_total) break;  // the files left are not read at all
      const uint64_t left = o.max_read_total - total;
      bound = bound == 0 ? left : std::min(bound, left);
    }
    LastLines last = ReadLastLines(path, o.lines, bound);
    total += last.bytes_read;
    for (const std::string& l : last.lines) {
      out << name.node << " " << name.log << ": " << l << "\n";
    }
    files[path] = Followed{name, last.end, ""};
  }
  if (bytes_read) *bytes_read = total;
  out.flush();
  if (!o.follow) return Status::Ok();
  while (!o.keep_going || o.keep_going()) {
    std::this_thread::sleep_for(o.poll);
    for (const auto& [path, name] : Matching(o)) {
      auto [it, inserted] = files.try_emplace(path, Followed{name, 0, ""});
      PrintNew(path, it->second, out);
    }
  }
  return Status::Ok();
}

}  // namespace ec::logcollect
