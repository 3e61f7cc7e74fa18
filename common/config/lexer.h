// Tokenizer of the ecelerity.conf language: bare words, quoted strings ("..." or '...', escapes
// \" \' \\ \n \t; any other backslash is kept as written so regexes survive), the punctuation
// { } ( ) [ ] =, `#` line comments and non-nesting /* */ comments. Lexical errors (unterminated
// string or comment) go to the Diagnostics and lexing continues. Works on a caller-owned buffer;
// one thread.
#pragma once

#include <string>
#include <string_view>

#include "common/config/location.h"

namespace ec::config {

struct Token {
  enum class Kind {
    kWord,
    kString,
    kLBrace,
    kRBrace,
    kLParen,
    kRParen,
    kLBracket,
    kRBracket,
    kEquals,
    kEnd
  };
  Kind kind = Kind::kEnd;
  std::string text;  // word or unescaped string; the punctuation itself otherwise
  Location location;
};

// "'{'", "word 'foo'", "quoted string \"x\"", "end of file": for error messages.
std::string DescribeToken(const Token& t);

class Lexer {
 public:
  // `text` must outlive the lexer; `file` names it in Locations.
  Lexer(std::string_view text, std::string file, Diagnostics* diags);
  Token Next();

 private:
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void Advance();
  void SkipSpaceAndComments();
  Location Here() const { return Location{file_, line_, column_}; }
  void Error(const Location& loc, std::string message);

  std::string_view text_;
  std::string file_;
  Diagnostics* diags_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

}  // namespace ec::config
