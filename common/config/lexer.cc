#include "common/config/lexer.h"

#include "common/config/text_util.h"
#include "common/config/value.h"

namespace ec::config {

std::string DescribeToken(const Token& t) {
  switch (t.kind) {
    case Token::Kind::kWord:
      return "word '" + t.text + "'";
    case Token::Kind::kString:
      return "quoted string " + Quote(t.text);
    case Token::Kind::kEnd:
      return "end of file";
    default:
      return "'" + t.text + "'";
  }
}

Lexer::Lexer(std::string_view text, std::string file, Diagnostics* diags)
    : text_(text), file_(std::move(file)), diags_(diags) {}

void Lexer::Advance() {
  if (pos_ >= text_.size()) return;
  if (text_[pos_] == '\n') {
    ++line_;
    column_ = 1;
  } else {
    ++column_;
  }
  ++pos_;
}

void Lexer::Error(const Location& loc, std::string message) {
  diags_->push_back(Diagnostic{Severity::kError, loc, std::move(message)});
}

void Lexer::SkipSpaceAndComments() {
  while (pos_ < text_.size()) {
    char c = Peek();
    if (IsSpace(c)) {
      Advance();
    } else if (c == '#') {
      while (pos_ < text_.size() && Peek() != '\n') Advance();
    } else if (c == '/' && Peek(1) == '*') {
      Location start = Here();
      Advance();
      Advance();
      while (pos_ < text_.size() && !(Peek() == '*' && Peek(1) == '/')) Advance();
      if (pos_ >= text_.size()) {
        Error(start, "unterminated comment: '/*' has no matching '*/'");
        return;
      }
      Advance();
      Advance();
    } else {
      return;
    }
  }
}

Token Lexer::Next() {
  SkipSpaceAndComments();
  Token t;
  t.location = Here();
  if (pos_ >= text_.size()) return t;
  char c = Peek();
  auto punct = [&](Token::Kind kind) {
    t.kind = kind;
    t.text = std::string(1, c);
    Advance();
    return t;
  };
  switch (c) {
    case '{':
      return punct(Token::Kind::kLBrace);
    case '}':
      return punct(Token::Kind::kRBrace);
    case '(':
      return punct(Token::Kind::kLParen);
    case ')':
      return punct(Token::Kind::kRParen);
    case '[':
      return punct(Token::Kind::kLBracket);
    case ']':
      return punct(Token::Kind::kRBracket);
    case '=':
      return punct(Token::Kind::kEquals);
    default:
      break;
  }
  if (c == '"' || c == '\'') {
    const char quote = c;
    t.kind = Token::Kind::kString;
    Advance();
    while (true) {
      char d = Peek();
      if (pos_ >= text_.size() || d == '\n') {
        Error(t.location, std::string("unterminated string: missing closing ") + quote);
        break;
      }
      Advance();
      if (d == quote) break;
      if (d == '\\' && pos_ < text_.size() && Peek() != '\n') {
        char e = Peek();
        Advance();
        switch (e) {
          case 'n':
            t.text += '\n';
            break;
          case 't':
            t.text += '\t';
            break;
          case '"':
          case '\'':
          case '\\':
            t.text += e;
            break;
          default:  // kept as written: "/^.*\.example\.com$/"
            t.text += '\\';
            t.text += e;
        }
        continue;
      }
      t.text += d;
    }
    return t;
  }
  t.kind = Token::Kind::kWord;
  while (pos_ < text_.size()) {
    char d = Peek();
    if (IsSpace(d) || IsSpecial(d) || (d == '/' && Peek(1) == '*')) break;
    t.text += d;
    Advance();
  }
  return t;
}

}  // namespace ec::config
