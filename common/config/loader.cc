#include "common/config/loader.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "common/config/parser.h"

namespace ec::config {
namespace fs = std::filesystem;

std::vector<std::string> SplitSearchPath(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::vector<std::string> DefaultSearchPath(std::string_view root, std::string_view node_name) {
  fs::path etc = fs::path(root) / "etc";
  std::vector<std::string> out = {etc.string(), (etc / "conf" / "global").string()};
  if (!node_name.empty()) out.push_back((etc / "conf" / std::string(node_name)).string());
  out.push_back((etc / "conf" / "default").string());
  return out;
}

std::vector<std::string> EffectiveSearchPath(const LoadOptions& options) {
  if (!options.search_path.empty()) return options.search_path;
  if (options.use_environment) {
    if (const char* env = std::getenv(kSearchPathEnv); env && *env) return SplitSearchPath(env);
  }
  return DefaultSearchPath(options.root, options.node_name);
}

namespace {

class Loader {
 public:
  Loader(const LoadOptions& options, Diagnostics* diags)
      : options_(options), search_path_(EffectiveSearchPath(options)), diags_(diags) {}

  void LoadMain(const std::string& path) {
    fs::path found = path;
    std::error_code ec;
    if (!fs::exists(found, ec) && found.is_relative()) {
      for (const std::string& dir : search_path_) {
        if (fs::exists(fs::path(dir) / path, ec)) {
          found = fs::path(dir) / path;
          break;
        }
      }
    }
    if (!fs::exists(found, ec)) {
      Error(Location{path, 0, 0}, "cannot open configuration file: not found (searched " +
                                      DescribeSearch(fs::path()) + ")");
      return;
    }
    config_->root.location = Location{found.string(), 0, 0};
    LoadFile(found, false, 0, Location{}, &config_->root);
  }

  void LoadText(std::string_view text, const std::string& name) {
    config_->root.location = Location{name, 0, 0};
    config_->files.push_back(name);
    chain_.push_back(name);
    ParseText(text, name, false, 0, &config_->root);
    chain_.pop_back();
  }

  std::shared_ptr<const Config> Finish() {
    std::set<std::string> twice;
    for (const auto& [canonical, opened] : opened_as_) {
      if (include_count_[canonical] > 1) twice.insert(opened.begin(), opened.end());
    }
    if (!twice.empty()) MarkReadOnly(&config_->root, twice);
    return std::move(config_);
  }

 private:
  void Error(const Location& loc, std::string message) {
    diags_->push_back(Diagnostic{Severity::kError, loc, std::move(message)});
  }

  std::string DescribeSearch(const fs::path& including_dir) const {
    std::string out;
    if (!including_dir.empty()) out = including_dir.string();
    for (const std::string& dir : search_path_) out += (out.empty() ? "" : ":") + dir;
    return out.empty() ? "nothing" : out;
  }

  static void MarkReadOnly(Scope* scope, const std::set<std::string>& files) {
    if (files.count(scope->location.file)) scope->read_only = true;
    for (Option& o : scope->options) {
      if (files.count(o.location.file)) o.read_only = true;
    }
    for (Scope& c : scope->children) MarkReadOnly(&c, files);
  }

  void Include(const IncludeRequest& req, Scope* into, bool read_only) {
    fs::path including_dir = fs::path(req.location.file).parent_path();
    fs::path target;
    std::error_code ec;
    fs::path wanted = req.path;
    if (req.path.empty()) {
      Error(req.location, "include of an empty path");
      return;
    }
    if (wanted.is_absolute()) {
      if (fs::exists(wanted, ec)) target = wanted;
    } else {
      std::vector<fs::path> candidates = {including_dir / wanted};
      for (const std::string& dir : search_path_) candidates.push_back(fs::path(dir) / wanted);
      for (const fs::path& c : candidates) {
        if (fs::exists(c, ec)) {
          target = c;
          break;
        }
      }
    }
    if (target.empty()) {
      Error(req.location,
            "include \"" + req.path + "\": not found" +
                (wanted.is_absolute() ? std::string()
                                      : " (searched " + DescribeSearch(including_dir) + ")"));
      return;
    }
    target = target.lexically_normal();
    if (fs::is_directory(target, ec)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(target, ec)) {
        std::string name = entry.path().filename().string();
        std::error_code type_ec;
        if (name.empty() || name[0] == '.' || !entry.is_regular_file(type_ec)) continue;
        files.push_back(entry.path());
      }
      if (ec) {
        Error(req.location, "include \"" + req.path + "\": cannot list directory " +
                                target.string() + ": " + ec.message());
        return;
      }
      std::sort(files.begin(), files.end());
      for (const fs::path& f : files) {
        LoadFile(f, read_only, req.nesting, req.location, into);
      }
      return;
    }
    LoadFile(target, read_only, req.nesting, req.location, into);
  }

  void LoadFile(const fs::path& path, bool read_only, int nesting, const Location& from,
                Scope* into) {
    std::error_code ec;
    std::string display = path.string();
    fs::path canonical = fs::weakly_canonical(path, ec);
    std::string key = ec ? display : canonical.string();
    const Location at = from.line > 0 ? from : Location{display, 0, 0};
    if (std::find(chain_.begin(), chain_.end(), key) != chain_.end()) {
      std::string cycle;
      bool in = false;
      for (const std::string& f : chain_) {
        if (f == key) in = true;
        if (in) cycle += f + " -> ";
      }
      Error(at, "include cycle: " + cycle + key);
      return;
    }
    if (static_cast<int>(chain_.size()) >= options_.limits.max_include_depth) {
      Error(at, "includes nested deeper than " + std::to_string(options_.limits.max_include_depth) +
                    " files (at " + display + ")");
      return;
    }
    if (++files_read_ > options_.limits.max_files) {
      if (files_read_ == options_.limits.max_files + 1) {
        Error(at, "more than " + std::to_string(options_.limits.max_files) +
                      " configuration files included; the rest are ignored");
      }
      return;
    }
    auto size = fs::file_size(path, ec);
    if (ec) {
      Error(at, "cannot read " + display + ": " + ec.message());
      return;
    }
    if (size > options_.limits.max_file_size) {
      Error(at, display + " is " + std::to_string(size) + " bytes, more than the limit of " +
                    std::to_string(options_.limits.max_file_size));
      return;
    }
    std::ifstream in(path, std::ios::binary);
    std::string text(size, '\0');
    if (!in.read(text.data(), static_cast<std::streamsize>(size))) {
      Error(at, "cannot read " + display + ": " + std::strerror(errno));
      return;
    }
    if (++include_count_[key] == 1) config_->files.push_back(display);
    opened_as_[key].insert(display);
    chain_.push_back(key);
    ParseText(text, display, read_only, nesting, into);
    chain_.pop_back();
  }

  void ParseText(std::string_view text, const std::string& name, bool read_only, int nesting,
                 Scope* into) {
    ParseContext ctx;
    ctx.file = name;
    ctx.read_only = read_only;
    ctx.max_nesting = options_.limits.max_nesting;
    ctx.initial_nesting = nesting;
    if (options_.allow_includes) {
      ctx.include = [this, read_only](const IncludeRequest& req, Scope* target) {
        Include(req, target, read_only || req.read_only);
      };
    }
    ParseInto(text, ctx, into, diags_);
  }

  const LoadOptions& options_;
  std::vector<std::string> search_path_;
  Diagnostics* diags_;
  std::shared_ptr<Config> config_ = std::make_shared<Config>();
  std::vector<std::string> chain_;  // canonical paths of the files being parsed
  std::map<std::string, int> include_count_;
  std::map<std::string, std::set<std::string>> opened_as_;
  int files_read_ = 0;
};

}  // namespace

std::shared_ptr<const Config> ParseConfigFile(const std::string& path, const LoadOptions& options,
                                              Diagnostics* diags) {
  Loader loader(options, diags);
  loader.LoadMain(path);
  return loader.Finish();
}

std::shared_ptr<const Config> ParseConfigString(std::string_view text, const std::string& name,
                                                const LoadOptions& options, Diagnostics* diags) {
  Loader loader(options, diags);
  loader.LoadText(text, name);
  return loader.Finish();
}

}  // namespace ec::config
