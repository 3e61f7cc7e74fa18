// Packs: what the manager sends a node (the objects reachable from a revision and not from the
// node's base) and what a node sends on push. Building uses git_packbuilder; receiving uses
// git_indexer, which checks the pack's checksum and every object's zlib stream before the pack and
// its .idx appear (atomically) in the repository's objects/pack. Callers own the repository;
// everything runs on the caller's thread.
#pragma once

#include <git2.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ec::ecconfigd {

// A pack with the objects reachable from `want` but not from any of `haves`. Haves the
// repository does not know are ignored (the pack is then larger, never wrong).
Result<std::string> BuildPack(git_repository* repo, const git_oid& want,
                              const std::vector<git_oid>& haves);

// Number of objects a pack's header announces; InvalidArgument if it is not a pack.
Result<uint32_t> PackObjectCount(std::string_view pack);

// Indexes `pack` into the repository's object store. An empty pack (0 objects) is a no-op. A
// truncated or corrupt pack is refused with InvalidArgument and leaves the store unchanged.
Status IndexPack(git_repository* repo, std::string_view pack);

// Checks that `tip` and everything reachable from it but not from `hides` (commits, trees, blobs)
// is present, so a ref may point at it.
Status CheckConnected(git_repository* repo, const git_oid& tip, const std::vector<git_oid>& hides);

}  // namespace ec::ecconfigd
