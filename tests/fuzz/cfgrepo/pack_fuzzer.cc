// Fuzzes the pack acceptance path of a push: the bytes of a received pack go through
// Repo::Push (header check, git_indexer, connectivity and fast-forward checks) into a real bare
// repository in a temp dir, which must stay at its head unless a valid fast-forward arrived.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "ecconfigd/pack.h"
#include "ecconfigd/repo.h"

namespace {

struct Fixture {
  Fixture() {
    char tmpl[] = "/tmp/cfgrepo_pack_fuzz.XXXXXX";
    dir = ::mkdtemp(tmpl);
    auto made = ec::ecconfigd::Repo::Create(dir / "r.git", dir / "no-seed", {});
    EC_CHECK(made.ok());
    head = *made->Head();
  }
  ~Fixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::filesystem::path dir;
  git_oid head;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  auto repo = ec::ecconfigd::Repo::Open(fixture.dir / "r.git");
  EC_CHECK(repo.ok());
  // The first 20 bytes name the new head; the rest is the pack.
  if (size < 20) return 0;
  git_oid new_head;
  git_oid_fromraw(&new_head, data);
  std::string_view pack(reinterpret_cast<const char*>(data) + 20, size - 20);
  auto pushed = repo->Push(fixture.head, new_head, pack, "fuzz");
  auto head = repo->Head();
  EC_CHECK(head.ok());
  if (pushed.ok()) {
    EC_CHECK(git_oid_equal(&*head, &new_head));
    fixture.head = *head;
  } else {
    EC_CHECK(git_oid_equal(&*head, &fixture.head));
  }
  return 0;
}
