#include "experiments/loader.hpp"

#include "agents/params.hpp"
#include "engine/error.hpp"
#include "engine/runner.hpp"
#include "experiments/designs.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace wedge::experiments {

namespace {

constexpr std::string_view SECTIONS[] = {"negotiation", "soviet",   "matsumoto", "shigemitsu",
                                         "hatoyama",    "japan",    "dulles",    "alliance"};
constexpr std::string_view TOP_KEYS[] = {"extends", "description", "run", "sweep", "calibrate"};
constexpr std::string_view RUN_KEYS[] = {"runs", "seed", "precision", "crn", "max_runs"};
constexpr std::string_view SWEEP_KEYS[] = {"design", "points", "keys", "csv"};
constexpr std::string_view DESIGNS[] = {"grid", "lhs", "sobol", "saltelli", "list"};

template <class List>
std::string nearest(std::string_view word, const List& list) {
  std::string best;
  std::size_t d = std::string::npos;
  for (std::string_view c : list) {
    const std::size_t x = agents::edit_distance(word, c);
    if (x < d) {
      d = x;
      best = std::string(c);
    }
  }
  return best;
}

template <class List>
std::string joined(const List& list) {
  std::string out;
  for (std::string_view c : list) out += (out.empty() ? "" : ", ") + std::string(c);
  return out;
}

/// TOML allows non-ASCII characters only inside strings and comments. Finding one elsewhere here
/// keeps it from toml++ 3.3 (Debian 12), whose whitespace tables reach __builtin_unreachable for
/// code points U+00A1-U+049A in those positions (undefined behaviour, found by fuzzing). Returns
/// the 1-based line and column of the first such character, or {0, 0}.
std::pair<std::size_t, std::size_t> non_ascii_outside_strings(std::string_view text) {
  enum { code, comment, basic, literal, multi_basic, multi_literal } state = code;
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < text.size(); ++i, ++column) {
    const char c = text[i];
    const auto starts = [&](std::string_view s) { return text.substr(i, s.size()) == s; };
    if (c == '\n') {
      ++line;
      column = 0;
      if (state == comment || state == basic || state == literal) state = code;
      continue;
    }
    switch (state) {
      case code:
        if (static_cast<unsigned char>(c) >= 0x80) return {line, column};
        if (c == '#') {
          state = comment;
        } else if (starts(R"(""")")) {
          state = multi_basic;
          i += 2;
          column += 2;
        } else if (starts("'''")) {
          state = multi_literal;
          i += 2;
          column += 2;
        } else if (c == '"') {
          state = basic;
        } else if (c == '\'') {
          state = literal;
        }
        break;
      case comment:
        break;
      case basic:
        if (c == '\\') {
          ++i;
          ++column;
        } else if (c == '"') {
          state = code;
        }
        break;
      case literal:
        if (c == '\'') state = code;
        break;
      case multi_basic:
        if (c == '\\') {
          ++i;
          ++column;
        } else if (starts(R"(""")")) {
          state = code;
          i += 2;
          column += 2;
        }
        break;
      case multi_literal:
        if (starts("'''")) {
          state = code;
          i += 2;
          column += 2;
        }
        break;
    }
  }
  return {0, 0};
}

/// Reads one file and remembers where things are.
class FileReader {
 public:
  FileReader(std::string path, Experiment& e, const std::string* text = nullptr)
      : path_(std::move(path)), e_(e), text_(text) {}

  [[noreturn]] void fail(const toml::source_region& where, const std::string& what) const {
    throw ConfigError(fmt::format("{}:{}:{}: {}", path_, where.begin.line, where.begin.column, what));
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw ConfigError(fmt::format("{}: {}", path_, what));
  }

  toml::table parse() const {
    std::string text;
    if (text_ != nullptr) {
      text = *text_;
    } else {
      std::error_code ec;
      if (fs::is_directory(path_, ec)) fail("is a directory, not an experiment file");
      std::ifstream in(path_, std::ios::binary);
      if (!in) fail("cannot open the experiment file (does it exist and is it readable?)");
      std::stringstream buffer;
      buffer << in.rdbuf();
      text = buffer.str();
    }
    if (const auto [line, column] = non_ascii_outside_strings(text); line > 0) {
      throw ConfigError(fmt::format("{}:{}:{}: invalid TOML: a non-ASCII character outside a string or comment",
                                    path_, line, column));
    }
    try {
      auto table = toml::parse(text, path_);
      if (table.empty()) fail("the file is empty: an experiment sets at least one key or `extends`");
      return table;
    } catch (const toml::parse_error& err) {
      fail(err.source(), fmt::format("invalid TOML: {}", err.description()));
    }
  }

  double number(const toml::node& node, const std::string& key, const agents::ParamInfo& info) const {
    double v = 0.0;
    if (info.type == agents::ParamType::boolean) {
      if (!node.is_boolean()) fail(node.source(), fmt::format("{}: must be true or false", key));
      v = node.value<bool>().value() ? 1.0 : 0.0;
    } else if (info.type == agents::ParamType::integer) {
      if (!node.is_integer()) {
        fail(node.source(), fmt::format("{} = {}: must be {}", key, text_of(node), info.range_text()));
      }
      v = static_cast<double>(node.value<std::int64_t>().value());
    } else {
      if (!node.is_number()) {
        fail(node.source(), fmt::format("{} = {}: must be a number, {}", key, text_of(node),
                                        info.range_text()));
      }
      v = node.value<double>().value();
    }
    if (!info.in_range(v)) {
      fail(node.source(), fmt::format("{} = {}: must be {}", key, text_of(node), info.range_text()));
    }
    return v;
  }

  static std::string text_of(const toml::node& node) {
    std::string s;
    if (node.is_floating_point()) {
      s = fmt::format("{}", node.value<double>().value());
    } else if (node.is_integer()) {
      s = fmt::format("{}", node.value<std::int64_t>().value());
    } else {
      std::ostringstream os;
      node.visit([&os](auto&& n) { os << n; });
      s = os.str();
    }
    if (s.size() > 40) s = s.substr(0, 37) + "...";
    return s;
  }

  const agents::ParamInfo& parameter(const toml::source_region& where, const std::string& key) const {
    if (const auto* info = agents::find_parameter(key)) return *info;
    fail(where, fmt::format("unknown key '{}' (did you mean '{}'?)", key,
                            agents::nearest_parameter(key)));
  }

  /// A scenario section, walked recursively ([japan.factions.HK] nests).
  void section(const toml::table& table, const std::string& prefix) {
    for (auto&& [k, node] : table) {
      const std::string key = prefix + "." + std::string(k.str());
      if (node.is_table() && !agents::find_parameter(key)) {
        bool any = false;
        for (const auto& p : agents::parameters()) any = any || p.key.starts_with(key + ".");
        if (!any) {
          std::vector<std::string> sections;
          for (const auto& p : agents::parameters()) {
            if (sections.empty() || sections.back() != p.section) sections.push_back(p.section);
          }
          fail(k.source(), fmt::format("unknown section [{}] (did you mean [{}]?)", key,
                                       nearest(key, sections)));
        }
        section(*node.as_table(), key);
        continue;
      }
      const auto& info = parameter(k.source(), key);
      info.set(e_.base, number(node, key, info));
    }
  }

  std::uint64_t count(const toml::node& node, const std::string& key, std::uint64_t lo,
                      std::uint64_t hi) const {
    const auto v = node.value<std::int64_t>();
    if (!node.is_integer() || *v < 0 || static_cast<std::uint64_t>(*v) < lo ||
        static_cast<std::uint64_t>(*v) > hi) {
      fail(node.source(), fmt::format("{} = {}: must be an integer in [{}, {}]", key, text_of(node), lo, hi));
    }
    return static_cast<std::uint64_t>(*v);
  }

  void run_section(const toml::table& table) {
    for (auto&& [k, node] : table) {
      const std::string_view key = k.str();
      const std::string full = "run." + std::string(key);
      if (key == "runs") {
        e_.run.runs = count(node, full, 1, engine::MAX_REPLICATES);
      } else if (key == "max_runs") {
        e_.run.max_runs = count(node, full, 1, engine::MAX_REPLICATES);
      } else if (key == "seed") {
        e_.run.seed = count(node, full, 0, static_cast<std::uint64_t>(INT64_MAX));
      } else if (key == "crn") {
        if (!node.is_boolean()) fail(node.source(), "run.crn: must be true or false");
        e_.run.crn = node.value<bool>().value();
      } else if (key == "precision") {
        const auto v = node.value<double>();
        if (!node.is_number() || !(*v >= 1e-6 && *v <= 0.5)) {
          fail(node.source(), fmt::format("run.precision = {}: must be a number in [1e-06, 0.5]", text_of(node)));
        }
        e_.run.precision = *v;
      } else {
        fail(k.source(), fmt::format("unknown key '{}' in [run] (did you mean '{}'? valid: {})",
                                     key, nearest(key, RUN_KEYS), joined(RUN_KEYS)));
      }
    }
  }

  SweepKey sweep_key(const toml::key& k, const toml::node& node, Design design) const {
    const std::string key(k.str());
    const auto& info = parameter(k.source(), key);
    SweepKey sk;
    sk.key = key;
    if (node.is_array()) {
      if (design != Design::grid && design != Design::list) {
        fail(node.source(), fmt::format("sweep.keys.\"{}\": a {} design needs {{ min = ..., max = ... }}",
                                        key, design_name(design)));
      }
      const auto& arr = *node.as_array();
      if (arr.empty()) fail(node.source(), fmt::format("sweep.keys.\"{}\": the list of values is empty", key));
      for (const auto& v : arr) sk.values.push_back(number(v, key, info));
      if (design == Design::grid) {
        std::set<double> distinct(sk.values.begin(), sk.values.end());
        if (distinct.size() != sk.values.size()) {
          fail(node.source(), fmt::format("sweep.keys.\"{}\": a grid value is given twice", key));
        }
      }
      return sk;
    }
    if (!node.is_table()) {
      fail(node.source(), fmt::format("sweep.keys.\"{}\": expected a list of values or {{ min = ..., max = ... }}", key));
    }
    if (design == Design::list) {
      fail(node.source(), fmt::format("sweep.keys.\"{}\": a list design needs a list of values, one per point", key));
    }
    const auto& t = *node.as_table();
    const toml::node* min = t.get("min");
    const toml::node* max = t.get("max");
    for (auto&& [sub, v] : t) {
      const std::string_view s = sub.str();
      if (s != "min" && s != "max" && s != "steps") {
        fail(sub.source(), fmt::format("sweep.keys.\"{}\": unknown field '{}' (valid: min, max{})", key,
                                       s, design == Design::grid ? ", steps" : ""));
      }
      if (s == "steps" && design != Design::grid) {
        fail(sub.source(), fmt::format("sweep.keys.\"{}\": steps applies to grid designs only", key));
      }
    }
    if (info.type == agents::ParamType::boolean) {
      if (min != nullptr || max != nullptr) {
        fail(node.source(), fmt::format("sweep.keys.\"{}\": a boolean key takes no min/max; use [false, true]{}",
                                        key, design == Design::grid ? "" : " or {}"));
      }
      sk.min = 0.0;
      sk.max = 1.0;
      sk.has_range = true;
    } else {
      if (min == nullptr || max == nullptr) {
        fail(node.source(), fmt::format("sweep.keys.\"{}\": needs both min and max", key));
      }
      sk.min = number(*min, key + ".min", info);
      sk.max = number(*max, key + ".max", info);
      if (sk.min > sk.max) {
        fail(min->source(), fmt::format("sweep.keys.\"{}\": min = {} is above max = {}", key,
                                        agents::format_value(info, sk.min), agents::format_value(info, sk.max)));
      }
      sk.has_range = true;
    }
    if (design == Design::grid) {
      const toml::node* steps = t.get("steps");
      if (steps == nullptr) fail(node.source(), fmt::format("sweep.keys.\"{}\": a grid range needs steps", key));
      sk.steps = count(*steps, "sweep.keys.\"" + key + "\".steps", sk.min == sk.max ? 1 : 2, 100'000);
      for (std::uint64_t i = 0; i < sk.steps; ++i) {
        const double v = sk.steps == 1 ? sk.min
                                       : sk.min + (sk.max - sk.min) * static_cast<double>(i) /
                                                      static_cast<double>(sk.steps - 1);
        if (!info.in_range(v)) {
          fail(steps->source(), fmt::format("sweep.keys.\"{}\": step value {} is not valid for {} ({})",
                                            key, v, key, info.range_text()));
        }
        sk.values.push_back(v);
      }
    }
    return sk;
  }

  void sweep_section(const toml::table& table, const toml::source_region& where) {
    Sweep sweep;
    const toml::node* design = table.get("design");
    if (design == nullptr) fail(where, fmt::format("[sweep] needs design = one of {}", joined(DESIGNS)));
    const auto name = design->value<std::string>();
    if (!name) fail(design->source(), fmt::format("sweep.design: must be one of {}", joined(DESIGNS)));
    if (*name == "grid") sweep.design = Design::grid;
    else if (*name == "lhs") sweep.design = Design::lhs;
    else if (*name == "sobol") sweep.design = Design::sobol;
    else if (*name == "saltelli") sweep.design = Design::saltelli;
    else if (*name == "list") sweep.design = Design::list;
    else {
      fail(design->source(), fmt::format("sweep.design = \"{}\": must be one of {} (did you mean '{}'?)",
                                         *name, joined(DESIGNS), nearest(*name, DESIGNS)));
    }
    for (auto&& [k, node] : table) {
      const std::string_view key = k.str();
      if (std::find(std::begin(SWEEP_KEYS), std::end(SWEEP_KEYS), key) == std::end(SWEEP_KEYS) &&
          key != "design") {
        fail(k.source(), fmt::format("unknown key '{}' in [sweep] (valid: design, {})", key, joined(SWEEP_KEYS)));
      }
    }
    const bool sampled = sweep.design == Design::lhs || sweep.design == Design::sobol ||
                         sweep.design == Design::saltelli;
    if (const toml::node* points = table.get("points")) {
      if (!sampled) fail(points->source(), fmt::format("sweep.points applies to lhs, sobol and saltelli designs, not {}", *name));
      sweep.points = count(*points, "sweep.points", 1, MAX_DESIGN_POINTS);
    } else if (sampled) {
      fail(where, fmt::format("a {} design needs points = N", *name));
    }
    if (const toml::node* csv = table.get("csv")) {
      if (sweep.design != Design::list) fail(csv->source(), "sweep.csv applies to list designs only");
      const auto file = csv->value<std::string>();
      if (!file) fail(csv->source(), "sweep.csv: must be a file name");
      fs::path p(*file);
      if (p.is_relative()) p = fs::path(path_).parent_path() / p;
      sweep.csv = p.string();
    }
    const toml::node* keys = table.get("keys");
    if (keys != nullptr) {
      if (!keys->is_table()) fail(keys->source(), "sweep.keys: must be a table of \"key\" = values");
      // toml++ iterates keys sorted; the design follows the order of the file.
      std::vector<std::pair<const toml::key*, const toml::node*>> entries;
      for (auto&& [k, node] : *keys->as_table()) entries.emplace_back(&k, &node);
      std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        const auto& x = a.first->source().begin;
        const auto& y = b.first->source().begin;
        return x.line != y.line ? x.line < y.line : x.column < y.column;
      });
      for (const auto& [k, node] : entries) sweep.keys.push_back(sweep_key(*k, *node, sweep.design));
    }
    if (sweep.csv.empty() && sweep.keys.empty()) fail(where, "[sweep] has no keys: add [sweep.keys]");
    if (!sweep.csv.empty() && !sweep.keys.empty()) fail(where, "a list design takes either csv or [sweep.keys], not both");
    if (sweep.design == Design::list && sweep.csv.empty()) {
      const std::size_t n = sweep.keys.front().values.size();
      for (const auto& sk : sweep.keys) {
        if (sk.values.size() != n) {
          fail(where, fmt::format("list design: \"{}\" has {} values but \"{}\" has {}; every key needs one value per point",
                                  sk.key, sk.values.size(), sweep.keys.front().key, n));
        }
      }
    }
    e_.sweep = std::move(sweep);
  }

  /// Reads this file's own keys (after its parents').
  void read(const toml::table& table) {
    for (auto&& [k, node] : table) {
      const std::string key(k.str());
      if (key == "extends") continue;
      if (key == "description") {
        if (!node.is_string()) fail(node.source(), "description: must be a string");
        e_.description = node.value<std::string>().value();
        continue;
      }
      if (key == "calibrate") {  // `wedge calibrate` reads it (experiments/calibrate.cpp)
        if (!node.is_table()) fail(node.source(), "'calibrate' must be a table ([calibrate])");
        continue;
      }
      if (key == "run" || key == "sweep" ||
          std::find(std::begin(SECTIONS), std::end(SECTIONS), key) != std::end(SECTIONS)) {
        if (!node.is_table()) fail(node.source(), fmt::format("'{}' must be a table ([{}])", key, key));
        if (key == "run") run_section(*node.as_table());
        else if (key == "sweep") sweep_section(*node.as_table(), node.source());
        else section(*node.as_table(), key);
        continue;
      }
      std::vector<std::string_view> valid(std::begin(TOP_KEYS), std::end(TOP_KEYS));
      valid.insert(valid.end(), std::begin(SECTIONS), std::end(SECTIONS));
      if (node.is_table()) {
        fail(k.source(), fmt::format("unknown section [{}] (did you mean [{}]? valid: {})", key,
                                     nearest(key, valid), joined(valid)));
      }
      fail(k.source(), fmt::format("unknown key '{}' (did you mean '{}'? scenario keys belong in their "
                                   "section, e.g. [dulles] tact = 0.9)", key, agents::nearest_parameter(key)));
    }
  }

 private:
  std::string path_;
  Experiment& e_;
  const std::string* text_;
};

void load_chain(const std::string& path, Experiment& e, std::vector<std::string>& chain) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(path, ec);
  const std::string id = ec ? path : canonical.string();
  if (std::find(chain.begin(), chain.end(), id) != chain.end()) {
    std::string cycle;
    for (const auto& c : chain) cycle += c + " -> ";
    throw ConfigError(fmt::format("{}: cyclic extends: {}{}", chain.back(), cycle, id));
  }
  chain.push_back(id);
  FileReader reader(path, e);
  const toml::table table = reader.parse();
  if (const toml::node* parent = table.get("extends")) {
    const auto name = parent->value<std::string>();
    if (!name || name->empty()) reader.fail(parent->source(), "extends: must be a file name");
    fs::path p(*name);
    if (p.is_relative()) p = fs::path(path).parent_path() / p;
    std::error_code exists_ec;
    if (!fs::exists(p, exists_ec)) {
      reader.fail(parent->source(), fmt::format("extends = \"{}\": no such file ({})", *name, p.string()));
    }
    load_chain(p.string(), e, chain);
  }
  reader.read(table);
  chain.pop_back();
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) {
    while (!cell.empty() && (cell.back() == '\r' || cell.back() == ' ')) cell.pop_back();
    while (!cell.empty() && cell.front() == ' ') cell.erase(cell.begin());
    out.push_back(cell);
  }
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

void load_csv(Sweep& sweep) {
  std::error_code ec;
  if (!fs::is_regular_file(sweep.csv, ec)) {
    throw ConfigError(fmt::format("{}: not a regular file (a CSV file of design points is expected)", sweep.csv));
  }
  if (fs::file_size(sweep.csv, ec) > (std::uintmax_t{256} << 20)) {
    throw ConfigError(fmt::format("{}: larger than 256 MB; not a CSV file of design points?", sweep.csv));
  }
  std::ifstream in(sweep.csv);
  if (!in) throw ConfigError(fmt::format("{}: cannot open the CSV file of design points", sweep.csv));
  std::string line;
  std::size_t line_no = 0;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    const auto cells = split_csv_line(line);
    if (header.empty()) {
      header = cells;
      std::set<std::string> seen;
      for (const auto& key : header) {
        const auto* info = agents::find_parameter(key);
        if (info == nullptr) {
          throw ConfigError(fmt::format("{}:{}: unknown key '{}' in the header (did you mean '{}'?)",
                                        sweep.csv, line_no, key, agents::nearest_parameter(key)));
        }
        if (!seen.insert(key).second) {
          throw ConfigError(fmt::format("{}:{}: key '{}' appears twice in the header", sweep.csv, line_no, key));
        }
        sweep.keys.push_back(SweepKey{key, {}, 0, 0, 0, false});
      }
      continue;
    }
    if (sweep.keys.front().values.size() >= MAX_DESIGN_POINTS) {
      throw ConfigError(fmt::format("{}:{}: more than {} design points", sweep.csv, line_no, MAX_DESIGN_POINTS));
    }
    if (cells.size() != header.size()) {
      throw ConfigError(fmt::format("{}:{}: {} values for {} keys", sweep.csv, line_no, cells.size(), header.size()));
    }
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const auto& info = agents::require_parameter(header[c]);
      try {
        sweep.keys[c].values.push_back(agents::parse_parameter_value(info, cells[c]));
      } catch (const ConfigError& err) {
        throw ConfigError(fmt::format("{}:{}: {}", sweep.csv, line_no, err.what()));
      }
    }
  }
  if (header.empty() || sweep.keys.front().values.empty()) {
    throw ConfigError(fmt::format("{}: no design points (a header row of keys, then one row per point)", sweep.csv));
  }
}

}  // namespace

Experiment load_experiment(const std::string& path) {
  Experiment e;
  e.source = path;
  std::vector<std::string> chain;
  load_chain(path, e, chain);
  if (e.sweep.design == Design::list && !e.sweep.csv.empty()) load_csv(e.sweep);
  std::set<std::string> keys;
  for (const auto& sk : e.sweep.keys) {
    if (!keys.insert(sk.key).second) {
      throw ConfigError(fmt::format("{}: sweep key '{}' is given twice", path, sk.key));
    }
  }
  return e;
}

Experiment parse_experiment(const std::string& text, const std::string& name) {
  Experiment e;
  e.source = name;
  FileReader reader(name, e, &text);
  const toml::table table = reader.parse();
  if (table.get("extends") != nullptr) reader.fail("a stored experiment cannot use extends");
  reader.read(table);
  if (e.sweep.design == Design::list && !e.sweep.csv.empty()) load_csv(e.sweep);
  return e;
}

void apply_overrides(Experiment& e, const std::vector<std::string>& assignments) {
  for (const auto& a : assignments) {
    const auto eq = a.find('=');
    const std::string key = eq == std::string::npos ? a : a.substr(0, eq);
    for (const auto& sk : e.sweep.keys) {
      if (sk.key == key) {
        throw ConfigError(fmt::format("--set {}: '{}' is swept by the experiment; remove it from "
                                      "[sweep.keys] to fix its value", a, key));
      }
    }
    agents::apply_assignment(e.base, a);
  }
}

std::string to_toml(const Experiment& e) {
  std::string out;
  if (!e.description.empty()) {
    toml::table t;
    t.insert("description", e.description);
    std::ostringstream os;
    os << t;
    out += os.str() + "\n";
  }
  out += fmt::format("[run]\nruns = {}\nseed = {}\ncrn = {}\nmax_runs = {}\n", e.run.runs,
                     e.run.seed, e.run.crn, e.run.max_runs);
  if (e.run.precision) out += fmt::format("precision = {}\n", *e.run.precision);
  std::string section;
  for (const auto& p : agents::parameters()) {
    if (p.section != section) {
      section = p.section;
      out += fmt::format("\n[{}]\n", section);
    }
    const std::string name = p.key.substr(section.size() + 1);
    double v = p.get(e.base);
    std::string text = agents::format_value(p, v);
    if (p.type == agents::ParamType::real && text.find_first_of(".eE") == std::string::npos) text += ".0";
    out += fmt::format("{} = {}\n", name, text);
  }
  if (e.sweep.design != Design::single) {
    out += fmt::format("\n[sweep]\ndesign = \"{}\"\n", design_name(e.sweep.design));
    if (e.sweep.points > 0) out += fmt::format("points = {}\n", e.sweep.points);
    out += "\n[sweep.keys]\n";
    for (const auto& sk : e.sweep.keys) {
      const auto& info = agents::require_parameter(sk.key);
      auto val = [&info](double v) {
        std::string t = agents::format_value(info, v);
        if (info.type == agents::ParamType::real && t.find_first_of(".eE") == std::string::npos) t += ".0";
        return t;
      };
      if (sk.steps > 0) {
        out += fmt::format("\"{}\" = {{ min = {}, max = {}, steps = {} }}\n", sk.key, val(sk.min),
                           val(sk.max), sk.steps);
      } else if (sk.has_range && e.sweep.design != Design::grid && e.sweep.design != Design::list) {
        if (info.type == agents::ParamType::boolean) {
          out += fmt::format("\"{}\" = {{}}\n", sk.key);
        } else {
          out += fmt::format("\"{}\" = {{ min = {}, max = {} }}\n", sk.key, val(sk.min), val(sk.max));
        }
      } else {
        std::string list;
        for (double v : sk.values) list += (list.empty() ? "" : ", ") + val(v);
        out += fmt::format("\"{}\" = [{}]\n", sk.key, list);
      }
    }
  }
  return out;
}

}  // namespace wedge::experiments
