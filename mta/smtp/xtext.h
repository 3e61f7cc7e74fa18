// xtext (RFC 3461 §4), the encoding of the DSN parameters ENVID and ORCPT (and of AUTH=):
// printable ASCII except "+" and "=" stands for itself, any other byte is "+XX" in upper-case
// hex. Used by the listener (checking what clients send), the outbound client (passing it on)
// and the DSN builder (showing it decoded). Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

namespace ec::smtp {

bool IsXtext(std::string_view s);
std::string XtextEncode(std::string_view s);
// The decoded bytes of valid xtext; input that is not valid xtext is returned as it is.
std::string XtextDecode(std::string_view s);

}  // namespace ec::smtp
