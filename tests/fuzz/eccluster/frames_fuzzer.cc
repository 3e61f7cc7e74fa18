// The ECCluster channel's frame decoders on arbitrary frames (what a peer, authenticated or
// not, may send): never crash, and what they accept re-encodes to frames that decode the same.
// Input: the first byte picks request (even) or reply (odd); the rest is split on NUL into
// frames.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "eccluster/frames.h"

namespace {

std::vector<std::string_view> Views(const std::vector<std::string>& frames) {
  return {frames.begin(), frames.end()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool request = (data[0] & 1) == 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::string_view> frames;
  for (size_t i = 0; i < 16; ++i) {
    size_t nul = rest.find('\0');
    frames.push_back(rest.substr(0, nul));
    if (nul == std::string_view::npos) break;
    rest.remove_prefix(nul + 1);
  }
  if (request) {
    auto r = ec::eccluster::DecodeRequest(frames);
    if (!r.ok()) return 0;
    auto again = ec::eccluster::DecodeRequest(Views(ec::eccluster::EncodeRequest(*r)));
    if (!again.ok() || again->id != r->id || again->node != r->node || again->line != r->line) {
      std::abort();
    }
  } else {
    auto r = ec::eccluster::DecodeReply(frames);
    if (!r.ok()) return 0;
    auto again = ec::eccluster::DecodeReply(Views(ec::eccluster::EncodeReply(*r)));
    if (!again.ok() || again->id != r->id || again->response.ok != r->response.ok ||
        again->response.text != r->response.text) {
      std::abort();
    }
  }
  return 0;
}
