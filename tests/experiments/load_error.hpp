#pragma once
// The loader's error for an experiment file, as the loader and input tests compare it.
#include "../error_text.hpp"
#include "engine/error.hpp"
#include "experiments/loader.hpp"
#include "temp_dir.hpp"

#include <string>

namespace wedge::test {

/// Writes `text` to a file `name` in a scratch directory, loads it and resolves its design;
/// returns the ConfigError's message from the file's name on ("bad.toml:2:8: ..."), or "no error".
inline std::string load_error(const std::string& text, const std::string& name = "bad.toml") {
  TempDir dir;
  const auto path = dir.write(name, text);
  const std::string msg = error_text<ConfigError>([&] {
    experiments::Experiment e = experiments::load_experiment(path);
    experiments::resolve_design(e);
  });
  const auto at = msg.find(name);
  return at == std::string::npos ? msg : msg.substr(at);
}

}  // namespace wedge::test
