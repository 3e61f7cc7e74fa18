// ec::config::Value: one value of the configuration language: a scalar (bare word, number or
// quoted string), a list `( a "b" c )` or a dictionary `[ k = v  k2 = ( x y ) ]`. Each value
// records where it was written. Values are immutable after parsing and owned by the Option (or
// the OptionSpec default) that holds them; safe to read from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/config/location.h"

namespace ec::config {

// "N" (per second) or "N/secs", as used by the throttle options.
struct Rate {
  int64_t count = 0;
  int64_t per_seconds = 1;
};

class Value {
 public:
  enum class Kind { kScalar, kList, kDict };

  Value() = default;
  static Value Scalar(std::string text, bool quoted, Location loc);
  static Value List(std::vector<Value> items, Location loc);
  // keys and items are parallel; later duplicates of a key are kept (Find returns the last).
  static Value Dict(std::vector<std::string> keys, std::vector<Value> items, Location loc);

  Kind kind() const { return kind_; }
  bool is_scalar() const { return kind_ == Kind::kScalar; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  const Location& location() const { return location_; }
  // Scalar text (unescaped); empty for lists and dictionaries.
  const std::string& text() const { return text_; }
  bool quoted() const { return quoted_; }
  // List elements or dictionary values.
  const std::vector<Value>& items() const { return items_; }
  // Dictionary keys, parallel to items().
  const std::vector<std::string>& keys() const { return keys_; }
  // The dictionary entry named `key` (case-sensitive), or nullptr.
  const Value* Find(std::string_view key) const;

  // Typed views. A mismatch is kInvalidArgument "expected <what>, found <this>" (no location:
  // callers that report to an operator prefix location().ToString()).
  Result<std::string> AsString() const;
  Result<bool> AsBool() const;  // true/false, yes/no, on/off, 1/0 (any case)
  Result<int64_t> AsInt() const;
  Result<double> AsDouble() const;
  Result<double> AsSeconds() const;  // a non-negative number of seconds, fractions allowed
  Result<int64_t> AsBytes() const;   // an integer with an optional K, M or G suffix (1024-based)
  Result<uint32_t> AsOctal() const;  // a file mode such as 0640
  Result<Rate> AsRate() const;
  Result<std::vector<std::string>> AsStringList() const;  // a list of scalars

  // The value as it would be written in a config file: word, "quoted", ( ... ) or [ k = v ].
  std::string ToConfigText() const;
  // One word for messages: "a word", "a quoted string", "a list", "a dictionary".
  std::string Describe() const;

 private:
  Kind kind_ = Kind::kScalar;
  std::string text_;
  bool quoted_ = false;
  std::vector<std::string> keys_;
  std::vector<Value> items_;
  Location location_;
};

// Quotes `s` for a config file when it needs it (whitespace, specials or empty).
std::string QuoteIfNeeded(std::string_view s);
// Always quotes, escaping \" \\ \n \t.
std::string Quote(std::string_view s);

}  // namespace ec::config
