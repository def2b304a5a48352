#pragma once
// The message of the error a call throws, for tests that compare messages as text.
#include <string>

namespace wedge::test {

/// Calls `call()`; returns the what() of the `Error` it throws, or `none` when it throws none
/// (any other exception propagates, failing the test).
template <class Error, class Call>
std::string error_text(Call&& call, const std::string& none = "no error") {
  try {
    call();
  } catch (const Error& err) {
    return err.what();
  }
  return none;
}

}  // namespace wedge::test
