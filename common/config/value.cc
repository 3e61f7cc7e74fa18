#include "common/config/value.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "common/config/text_util.h"

namespace ec::config {

Value Value::Scalar(std::string text, bool quoted, Location loc) {
  Value v;
  v.kind_ = Kind::kScalar;
  v.text_ = std::move(text);
  v.quoted_ = quoted;
  v.location_ = std::move(loc);
  return v;
}

Value Value::List(std::vector<Value> items, Location loc) {
  Value v;
  v.kind_ = Kind::kList;
  v.items_ = std::move(items);
  v.location_ = std::move(loc);
  return v;
}

Value Value::Dict(std::vector<std::string> keys, std::vector<Value> items, Location loc) {
  EC_CHECK(keys.size() == items.size());
  Value v;
  v.kind_ = Kind::kDict;
  v.keys_ = std::move(keys);
  v.items_ = std::move(items);
  v.location_ = std::move(loc);
  return v;
}

const Value* Value::Find(std::string_view key) const {
  for (size_t i = keys_.size(); i-- > 0;) {
    if (keys_[i] == key) return &items_[i];
  }
  return nullptr;
}

std::string Value::Describe() const {
  switch (kind_) {
    case Kind::kList:
      return "a list";
    case Kind::kDict:
      return "a dictionary";
    case Kind::kScalar:
      break;
  }
  return "'" + text_ + "'";
}

namespace {

Status Expected(const Value& v, std::string_view what) {
  return InvalidArgument("expected " + std::string(what) + ", found " + v.Describe());
}

bool ParseInt64(std::string_view s, int64_t* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

Result<std::string> Value::AsString() const {
  if (!is_scalar()) return Expected(*this, "a single value");
  return text_;
}

Result<bool> Value::AsBool() const {
  if (is_scalar()) {
    std::string t = ToLower(text_);
    if (t == "true" || t == "yes" || t == "on" || t == "1") return true;
    if (t == "false" || t == "no" || t == "off" || t == "0") return false;
  }
  return Expected(*this, "a boolean (true or false)");
}

Result<int64_t> Value::AsInt() const {
  int64_t v = 0;
  if (is_scalar() && ParseInt64(text_, &v)) return v;
  return Expected(*this, "an integer");
}

Result<double> Value::AsDouble() const {
  if (is_scalar() && !text_.empty()) {
    double d = 0;
    auto [ptr, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), d);
    if (ec == std::errc() && ptr == text_.data() + text_.size() && std::isfinite(d)) return d;
  }
  return Expected(*this, "a number");
}

Result<double> Value::AsSeconds() const {
  auto d = AsDouble();
  if (!d.ok() || *d < 0) return Expected(*this, "a number of seconds");
  return *d;
}

Result<int64_t> Value::AsBytes() const {
  if (is_scalar() && !text_.empty()) {
    std::string_view s = text_;
    int64_t mult = 1;
    char last = static_cast<char>(std::toupper(static_cast<unsigned char>(s.back())));
    if (last == 'B' && s.size() > 1) {  // "10MB" == "10M"
      s.remove_suffix(1);
      last = static_cast<char>(std::toupper(static_cast<unsigned char>(s.back())));
    }
    if (last == 'K') mult = int64_t{1} << 10;
    if (last == 'M') mult = int64_t{1} << 20;
    if (last == 'G') mult = int64_t{1} << 30;
    if (mult != 1) s.remove_suffix(1);
    int64_t n = 0;
    if (ParseInt64(s, &n) && n >= 0 && n <= std::numeric_limits<int64_t>::max() / mult) {
      return n * mult;
    }
  }
  return Expected(*this, "a size in bytes (optionally with K, M or G)");
}

Result<uint32_t> Value::AsOctal() const {
  if (is_scalar() && !text_.empty() && text_.size() <= 5) {
    uint32_t mode = 0;
    bool ok = true;
    for (char c : text_) {
      if (c < '0' || c > '7') ok = false;
      mode = mode * 8 + static_cast<uint32_t>(c - '0');
    }
    if (ok && mode <= 07777) return mode;
  }
  return Expected(*this, "an octal file mode such as 0640");
}

Result<Rate> Value::AsRate() const {
  if (is_scalar()) {
    std::string_view s = text_;
    Rate r;
    size_t slash = s.find('/');
    bool ok = ParseInt64(s.substr(0, slash), &r.count) && r.count >= 0;
    if (ok && slash != std::string_view::npos) {
      ok = ParseInt64(s.substr(slash + 1), &r.per_seconds) && r.per_seconds > 0;
    }
    if (ok) return r;
  }
  return Expected(*this, "a rate \"N\" or \"N/seconds\"");
}

Result<std::vector<std::string>> Value::AsStringList() const {
  if (!is_list()) return Expected(*this, "a list ( ... )");
  std::vector<std::string> out;
  for (const Value& item : items_) {
    if (!item.is_scalar()) return Expected(item, "a list of single values");
    out.push_back(item.text_);
  }
  return out;
}

std::string QuoteIfNeeded(std::string_view s) {
  bool needs = s.empty();
  for (char c : s) {
    if (IsSpace(c) || IsSpecial(c) || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      needs = true;
    }
  }
  if (s.find("/*") != std::string_view::npos) needs = true;
  return needs ? Quote(s) : std::string(s);
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

std::string Value::ToConfigText() const {
  switch (kind_) {
    case Kind::kScalar:
      return quoted_ ? Quote(text_) : QuoteIfNeeded(text_);
    case Kind::kList: {
      std::string out = "(";
      for (const Value& item : items_) out += " " + item.ToConfigText();
      return out + " )";
    }
    case Kind::kDict: {
      std::string out = "[";
      for (size_t i = 0; i < items_.size(); ++i) {
        out += " " + QuoteIfNeeded(keys_[i]) + " = " + items_[i].ToConfigText();
      }
      return out + " ]";
    }
  }
  return {};
}

}  // namespace ec::config
