#include "ecconfigd/git_handles.h"

#include <mutex>

namespace ec::ecconfigd {

void EnsureGitInit() {
  static std::once_flag once;
  std::call_once(once, [] { git_libgit2_init(); });
}

Status GitError(int rc, std::string_view what) {
  const git_error* err = git_error_last();
  std::string message(what);
  message += ": ";
  message += (err != nullptr && err->message != nullptr) ? err->message : "libgit2 error";
  StatusCode code = StatusCode::kInternal;
  switch (rc) {
    case GIT_ENOTFOUND:
      code = StatusCode::kNotFound;
      break;
    case GIT_EEXISTS:
      code = StatusCode::kAlreadyExists;
      break;
    case GIT_ELOCKED:
      code = StatusCode::kUnavailable;
      break;
    case GIT_EMODIFIED:
    case GIT_ENONFASTFORWARD:
    case GIT_ECONFLICT:
      code = StatusCode::kFailedPrecondition;
      break;
    case GIT_EINVALID:
    case GIT_EINVALIDSPEC:
      code = StatusCode::kInvalidArgument;
      break;
    default:
      if (err != nullptr && (err->klass == GIT_ERROR_OS)) code = StatusCode::kIoError;
      if (err != nullptr && (err->klass == GIT_ERROR_INDEXER || err->klass == GIT_ERROR_ZLIB)) {
        code = StatusCode::kInvalidArgument;
      }
      break;
  }
  return Status(code, std::move(message));
}

std::string OidToHex(const git_oid& oid) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, &oid);
  return hex;
}

std::string ShortOid(const git_oid& oid) { return OidToHex(oid).substr(0, 12); }

Result<git_oid> ParseOid(std::string_view hex) {
  if (hex.size() != GIT_OID_HEXSZ) return InvalidArgument("not a revision id: " + std::string(hex));
  for (char c : hex) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!ok) return InvalidArgument("not a revision id: " + std::string(hex));
  }
  git_oid oid;
  if (git_oid_fromstrn(&oid, hex.data(), hex.size()) < 0) {
    return InvalidArgument("not a revision id: " + std::string(hex));
  }
  return oid;
}

}  // namespace ec::ecconfigd
