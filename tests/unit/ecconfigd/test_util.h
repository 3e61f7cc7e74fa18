// Test helpers shared by the ecconfigd and eccfg unit tests: run a shell command (stock git) and
// capture its output, write a file, make and remove a temp dir. Test-only; single-threaded use.
#pragma once

#include <stdlib.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ec::test {

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr
};

inline CommandResult Sh(const std::string& command) {
  CommandResult r{-1, {}};
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline void WriteFile(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << content;
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::filesystem::path MakeTempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + ".XXXXXX";
  char* made = ::mkdtemp(tmpl.data());
  return made == nullptr ? std::filesystem::path() : std::filesystem::path(made);
}

}  // namespace ec::test
