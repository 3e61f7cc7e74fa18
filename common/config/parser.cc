#include "common/config/parser.h"

#include <deque>

#include "common/config/lexer.h"
#include "common/config/text_util.h"

namespace ec::config {
namespace {

using Kind = Token::Kind;

bool IsValidName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

class Parser {
 public:
  Parser(std::string_view text, const ParseContext& ctx, Diagnostics* diags)
      : lexer_(text, ctx.file, diags), ctx_(ctx), diags_(diags) {}

  void ParseFile(Scope* into) { ParseStatements(into, ctx_.initial_nesting, nullptr); }

  bool ParseSingleValue(Value* out) {
    if (!ParseValue(0, out)) return false;
    if (Peek().kind != Kind::kEnd) {
      Error(Peek().location, "unexpected " + DescribeToken(Peek()) + " after the value");
      return false;
    }
    return true;
  }

 private:
  const Token& Peek(size_t ahead = 0) {
    while (lookahead_.size() <= ahead) lookahead_.push_back(lexer_.Next());
    return lookahead_[ahead];
  }
  Token Take() {
    Peek();
    Token t = std::move(lookahead_.front());
    lookahead_.pop_front();
    return t;
  }
  void Error(const Location& loc, std::string message) {
    diags_->push_back(Diagnostic{Severity::kError, loc, std::move(message)});
  }
  bool CheckNesting(int nesting, const Location& loc) {
    if (nesting <= ctx_.max_nesting) return true;
    Error(loc, "nesting deeper than " + std::to_string(ctx_.max_nesting) +
                   " levels (scopes, lists and dictionaries); the rest of the file is ignored");
    fatal_ = true;
    return false;
  }
  // After a syntax error: skip to the first token on a later line that can start a statement.
  void Recover(int error_line) {
    while (true) {
      const Token& t = Peek();
      if (t.kind == Kind::kEnd) return;
      if (t.location.line > error_line && (t.kind == Kind::kWord || t.kind == Kind::kRBrace)) {
        return;
      }
      Take();
    }
  }

  // Parses statements until the end of input or, when `open` is set, its closing '}'.
  void ParseStatements(Scope* scope, int nesting, const Token* open) {
    while (!fatal_) {
      const Token& t = Peek();
      if (t.kind == Kind::kEnd) {
        if (open) {
          Error(t.location, "missing '}' to close " + scope->Label() + " opened at " +
                                open->location.ToString());
        }
        return;
      }
      if (t.kind == Kind::kRBrace) {
        Token brace = Take();
        if (open) return;
        Error(brace.location, "unexpected '}' with no open scope");
        continue;
      }
      ParseStatement(scope, nesting);
    }
  }

  void ParseStatement(Scope* scope, int nesting) {
    Token name = Take();
    if (name.kind != Kind::kWord) {
      Error(name.location, "expected an option or scope name, found " + DescribeToken(name));
      Recover(name.location.line);
      return;
    }
    std::string lower = ToLower(name.text);
    if ((lower == "include" || lower == "readonly_include") &&
        (Peek().kind == Kind::kString || Peek().kind == Kind::kWord) &&
        Peek(1).kind != Kind::kLBrace) {
      Token path = Take();
      IncludeRequest req{path.text, lower == "readonly_include", name.location, nesting};
      if (!ctx_.include) {
        Error(name.location, name.text + " is not allowed here (includes are disabled)");
      } else {
        ctx_.include(req, scope);
      }
      return;
    }
    if (!IsValidName(name.text)) {
      Error(name.location,
            "invalid name '" + name.text + "': names use letters, digits, '_', '-' and '.'");
      Recover(name.location.line);
      return;
    }
    const Token& next = Peek();
    if (next.kind == Kind::kEquals) {
      Take();
      Option opt;
      opt.name = lower;
      opt.spelling = name.text;
      opt.location = name.location;
      opt.read_only = ctx_.read_only;
      if (!ParseValue(nesting, &opt.value)) {
        if (!fatal_) Recover(name.location.line);
        return;
      }
      scope->options.push_back(std::move(opt));
      return;
    }
    std::optional<std::string> scope_name;
    if ((next.kind == Kind::kString || next.kind == Kind::kWord) && Peek(1).kind == Kind::kLBrace) {
      scope_name = Take().text;
    }
    if (Peek().kind == Kind::kLBrace) {
      Token open = Take();
      if (!CheckNesting(nesting + 1, open.location)) return;
      Scope child;
      child.type = lower;
      child.spelling = name.text;
      child.name = std::move(scope_name);
      child.location = name.location;
      child.read_only = ctx_.read_only;
      ParseStatements(&child, nesting + 1, &open);
      scope->children.push_back(std::move(child));
      return;
    }
    Error(Peek().location,
          "expected '=' or '{' after '" + name.text + "', found " + DescribeToken(Peek()));
    Recover(name.location.line);
  }

  bool ParseValue(int nesting, Value* out) {
    Token t = Take();
    switch (t.kind) {
      case Kind::kWord:
      case Kind::kString:
        *out = Value::Scalar(std::move(t.text), t.kind == Kind::kString, t.location);
        return true;
      case Kind::kLParen: {
        if (!CheckNesting(nesting + 1, t.location)) return false;
        std::vector<Value> items;
        while (Peek().kind != Kind::kRParen) {
          if (Peek().kind == Kind::kEnd) {
            Error(Peek().location,
                  "missing ')' to close the list opened at " + t.location.ToString());
            return false;
          }
          Value item;
          if (!ParseValue(nesting + 1, &item)) return false;
          items.push_back(std::move(item));
        }
        Take();
        *out = Value::List(std::move(items), t.location);
        return true;
      }
      case Kind::kLBracket: {
        if (!CheckNesting(nesting + 1, t.location)) return false;
        std::vector<std::string> keys;
        std::vector<Value> items;
        while (Peek().kind != Kind::kRBracket) {
          Token key = Take();
          if (key.kind == Kind::kEnd) {
            Error(key.location,
                  "missing ']' to close the dictionary opened at " + t.location.ToString());
            return false;
          }
          if (key.kind != Kind::kWord && key.kind != Kind::kString) {
            Error(key.location, "expected a dictionary key, found " + DescribeToken(key));
            return false;
          }
          if (Peek().kind != Kind::kEquals) {
            Error(Peek().location, "expected '=' after dictionary key '" + key.text + "', found " +
                                       DescribeToken(Peek()));
            return false;
          }
          Take();
          Value item;
          if (!ParseValue(nesting + 1, &item)) return false;
          keys.push_back(std::move(key.text));
          items.push_back(std::move(item));
        }
        Take();
        *out = Value::Dict(std::move(keys), std::move(items), t.location);
        return true;
      }
      default:
        Error(t.location, "expected a value (word, quoted string, list or dictionary), found " +
                              DescribeToken(t));
        return false;
    }
  }

  Lexer lexer_;
  const ParseContext& ctx_;
  Diagnostics* diags_;
  std::deque<Token> lookahead_;
  bool fatal_ = false;
};

}  // namespace

void ParseInto(std::string_view text, const ParseContext& ctx, Scope* into, Diagnostics* diags) {
  Parser parser(text, ctx, diags);
  parser.ParseFile(into);
}

Result<Value> ParseValueText(std::string_view text, std::string_view origin) {
  Diagnostics diags;
  ParseContext ctx;
  ctx.file = std::string(origin);
  Parser parser(text, ctx, &diags);
  Value v;
  if (!parser.ParseSingleValue(&v) || HasErrors(diags)) {
    return InvalidArgument(diags.empty() ? "bad value" : diags.front().ToString());
  }
  return v;
}

}  // namespace ec::config
