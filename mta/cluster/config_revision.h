// The config revision a node runs, for its health record. eccfg applies a revision by pointing
// the working-copy symlink `<etc>/conf` at a checkout named `conf.<rev12>.<rand8>`
// (eccfg/layout.h), so the revision of a loaded configuration is read from the name of the
// checkout its files were reached through. The link may be swapped again between the load and
// the look (a pull right then); the next reload reports the new one. Free functions; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ec::mta::cluster {

// Pure: the <rev12> of `target` when it names a checkout of the working copy `link`
// (`<link>.<12 lowercase hex>.<8 of [0-9a-z]>`, as Layout::NewCheckoutDir makes them); else "".
std::string RevisionOfCheckout(std::string_view link, std::string_view target);

// The revision of the first of `files` (Config::files, main file first) whose path passes
// through a symlink pointing at a checkout; "" when none does (a plain directory, no eccfg).
// Relative paths are taken from the current directory, as the loader took them.
std::string ConfigRevisionOf(const std::vector<std::string>& files);

}  // namespace ec::mta::cluster
