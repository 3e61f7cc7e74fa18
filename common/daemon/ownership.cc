#include "common/daemon/ownership.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <system_error>

#include "common/log/logger.h"

namespace ec::daemon {
namespace fs = std::filesystem;
namespace {

Status Chown(const fs::path& p, const Account& a) {
  if (fchownat(AT_FDCWD, p.c_str(), a.uid, a.gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus("chown " + p.string() + " to " + a.user, errno);
  }
  return Status::Ok();
}

bool OwnedBy(const struct stat& st, const Account& a) {
  return st.st_uid == a.uid && st.st_gid == a.gid;
}

// Every entry below `dir`, without following links (a symlink's own owner changes).
Status ChownTree(const fs::path& dir, const Account& a) {
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  if (ec) return ErrnoStatus("listing " + dir.string(), ec.value());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return ErrnoStatus("listing " + dir.string(), ec.value());
    EC_RETURN_IF_ERROR(Chown(it->path(), a));
  }
  return Status::Ok();
}

// Regular files directly inside `dir` (a log file root created before the drop).
Status ChownTopFiles(const fs::path& dir, const Account& a) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    EC_RETURN_IF_ERROR(OwnFile(it->path(), a));
  }
  if (ec) return ErrnoStatus("listing " + dir.string(), ec.value());
  return Status::Ok();
}

}  // namespace

Status OwnDirectory(const fs::path& dir, const Account& account) {
  std::error_code ec;
  if (fs::create_directories(dir, ec)) {
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec, ec);
  }
  if (ec) return ErrnoStatus("creating " + dir.string(), ec.value());
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0) return ErrnoStatus("lstat " + dir.string(), errno);
  if (S_ISLNK(st.st_mode)) {
    EC_LOG(kWarn, "directory is a symlink; not changing its owner").Field("path", dir.string());
    return Status::Ok();
  }
  if (!S_ISDIR(st.st_mode)) return FailedPrecondition(dir.string() + " is not a directory");
  if (OwnedBy(st, account)) return ChownTopFiles(dir, account);
  EC_RETURN_IF_ERROR(Chown(dir, account));
  EC_RETURN_IF_ERROR(ChownTree(dir, account));
  EC_LOG(kInfo, "directory given to the daemon's user")
      .Field("path", dir.string())
      .Field("user", account.user);
  return Status::Ok();
}

Status OwnFile(const fs::path& file, const Account& account) {
  struct stat st {};
  if (lstat(file.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoStatus("lstat " + file.string(), errno);
  }
  if (!S_ISREG(st.st_mode) || OwnedBy(st, account)) return Status::Ok();
  return Chown(file, account);
}

Status GiveToDirectoryOwner(const fs::path& file) {
  if (geteuid() != 0) return Status::Ok();
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  struct stat d {};
  if (stat(dir.c_str(), &d) != 0) return ErrnoStatus("stat " + dir.string(), errno);
  // Checked and changed through one descriptor (O_PATH opens nothing; with O_NOFOLLOW a symlink
  // is itself what the descriptor names), so the dir's owner cannot swap the name for a link
  // to a root file between the check and the chown.
  const int fd = open(file.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ELOOP) return Status::Ok();
    return ErrnoStatus("opening " + file.string(), errno);
  }
  struct stat f {};
  Status status;
  if (fstat(fd, &f) != 0) {
    status = ErrnoStatus("fstat " + file.string(), errno);
  } else if (S_ISREG(f.st_mode) && f.st_nlink == 1 &&
             (f.st_uid != d.st_uid || f.st_gid != d.st_gid) &&
             fchownat(fd, "", d.st_uid, d.st_gid, AT_EMPTY_PATH) != 0) {
    // Only a plain file with this one name: a hard link could name a file root must keep.
    status = ErrnoStatus("chown " + file.string() + " to the owner of " + dir.string(), errno);
  }
  close(fd);
  return status;
}

Status OwnLayout(const RootLayout& layout, const Account& account,
                 const std::vector<fs::path>& extra_dirs) {
  EC_RETURN_IF_ERROR(layout.CreateDirectories());
  struct stat st {};
  if (lstat(layout.root.c_str(), &st) != 0) {
    return ErrnoStatus("lstat " + layout.root.string(), errno);
  }
  // Created 0750 root:root: let the account's group in (the console trust model's group).
  if (S_ISDIR(st.st_mode) && st.st_uid == 0 && st.st_gid == 0 && !(st.st_mode & S_IXOTH) &&
      lchown(layout.root.c_str(), static_cast<uid_t>(-1), account.gid) != 0) {
    return ErrnoStatus("chgrp " + layout.root.string(), errno);
  }
  for (const fs::path& dir : {layout.etc, layout.spool, layout.log, layout.run}) {
    EC_RETURN_IF_ERROR(OwnDirectory(dir, account));
  }
  for (const fs::path& dir : extra_dirs) EC_RETURN_IF_ERROR(OwnDirectory(dir, account));
  return Status::Ok();
}

}  // namespace ec::daemon
