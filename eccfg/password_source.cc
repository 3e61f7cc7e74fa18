#include "eccfg/password_source.h"

#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "ecconfigd/auth.h"

namespace ec::eccfg {

PasswordSources ProcessPasswordSources(const std::filesystem::path& file) {
  PasswordSources s;
  s.file = file;
  if (const char* env = std::getenv(kPasswordEnv); env != nullptr) s.environment = env;
  if (::isatty(STDIN_FILENO)) s.terminal_fd = STDIN_FILENO;
  return s;
}

Result<std::string> ObtainPassword(const PasswordSources& sources) {
  if (!sources.file.empty()) return ecconfigd::ReadSecret(sources.file);
  if (sources.environment && !sources.environment->empty()) return *sources.environment;
  if (sources.terminal_fd >= 0) return PromptNoEcho(sources.terminal_fd, "Password: ");
  return Status(StatusCode::kPermissionDenied,
                "a commit needs the admin password: --password-file FILE, the ECCFG_PASSWORD "
                "environment variable, or run it on a terminal to be prompted");
}

Result<std::string> PromptNoEcho(int fd, const std::string& prompt) {
  termios saved{};
  bool is_tty = ::tcgetattr(fd, &saved) == 0;
  if (is_tty) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    if (::tcsetattr(fd, TCSAFLUSH, &quiet) != 0) return ErrnoStatus("turning echo off", errno);
  }
  // The prompt goes to the terminal, not stdout, so scripts' output stays clean.
  (void)!::write(is_tty ? fd : STDERR_FILENO, prompt.data(), prompt.size());
  std::string line;
  Status status = Status::Ok();
  for (size_t i = 0; i < 4096; ++i) {
    char c;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = ErrnoStatus("reading the password", errno);
      break;
    }
    if (n == 0 || c == '\n') break;
    line.push_back(c);
  }
  if (is_tty) ::tcsetattr(fd, TCSAFLUSH, &saved);
  EC_RETURN_IF_ERROR(status);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return Status(StatusCode::kPermissionDenied, "empty password");
  return line;
}

}  // namespace ec::eccfg
