// The one JSON reader behind measurement files, their ring section and models.json: the same
// rules everywhere, and every complaint names the file and the field's path.
#include <doctest/doctest.h>

#include "util/errors.hpp"
#include "util/json_read.hpp"

using namespace attnlab;

TEST_CASE("json_read: paths in every message") {
  const JsonDoc doc = json_parse(R"({"runs": [{"config": {"head_dim": 0, "d": 4.0, "n": -3}}], "x": "s"})", "f.json");
  const JsonNode c = doc.root().at("runs").items().at(0).at("config");
  CHECK(c.path() == "runs[0].config");
  CHECK_THROWS_WITH_AS(c.at("head_dim").count(), "f.json: runs[0].config.head_dim must be a positive integer (got 0)",
                       InputError);
  CHECK(c.at("head_dim").count_or_zero() == 0);
  CHECK_THROWS_WITH_AS(c.at("d").count(), "f.json: runs[0].config.d must be a non-negative integer", InputError);
  CHECK_THROWS_WITH_AS(c.at("n").count_or_zero(), "f.json: runs[0].config.n must be a non-negative integer", InputError);
  CHECK_THROWS_WITH_AS(c.at("n").count_in(1, 8), "f.json: runs[0].config.n must be between 1 and 8 (got -3)", InputError);
  CHECK_THROWS_WITH_AS(c.at("d").count_in(1, 8), "f.json: runs[0].config.d must be an integer between 1 and 8 (got 4.0)",
                       InputError);
  CHECK_THROWS_WITH_AS(c.at("seq"), "f.json: runs[0].config.seq is missing", InputError);
  CHECK_THROWS_WITH_AS(doc.root().at("x").at("y"), "f.json: x must be an object", InputError);
  CHECK_THROWS_WITH_AS(doc.root().at("x").items(), "f.json: x must be an array", InputError);
  CHECK_THROWS_WITH_AS(doc.root().at("x").boolean(), "f.json: x must be true or false", InputError);
}

TEST_CASE("json_read: null is absent, for every field") {
  const JsonDoc doc = json_parse(R"({"a": null, "b": 2, "s": null})", "f.json");
  const JsonNode r = doc.root();
  CHECK_FALSE(r.has("a"));
  CHECK(r.has("b"));
  CHECK_THROWS_WITH_AS(r.at("a"), "f.json: a is missing", InputError);
  CHECK(r.count_or("a", 7) == 7);
  CHECK(r.count_or("b", 7) == 2);
  CHECK(r.str_or("s", "default") == "default");
}

TEST_CASE("json_read: positive vs non-negative real numbers, by name") {
  const JsonDoc doc = json_parse(R"({"zero": 0, "neg": -0.5, "one": 1.5, "text": "1"})", "f.json");
  const JsonNode r = doc.root();
  CHECK(r.at("zero").non_negative() == 0.0);
  CHECK_THROWS_WITH_AS(r.at("zero").positive(), "f.json: zero must be a positive number (got 0)", InputError);
  CHECK_THROWS_WITH_AS(r.at("neg").non_negative(), "f.json: neg must be a finite number >= 0 (got -0.5)", InputError);
  CHECK(r.at("one").positive() == 1.5);
  CHECK_THROWS_WITH_AS(r.at("text").positive(), "f.json: text must be a number", InputError);
}

TEST_CASE("json_read: whole() before narrowing, and bad text in one line") {
  const JsonDoc doc = json_parse(R"({"v": 4294967297, "big": 18446744073709551615})", "f.json");
  CHECK(doc.root().at("v").whole() == u64{4294967297});
  CHECK(doc.root().at("big").whole() == ~u64{0});
  CHECK_THROWS_WITH_AS(json_parse("{\"a\": ", "cut.json"), doctest::Contains("cut.json: not valid JSON ("), InputError);
  CHECK_THROWS_WITH_AS(json_parse(R"({"a": 1e400})", "big.json"), doctest::Contains("big.json: not valid JSON ("),
                       InputError);
  try {
    json_parse("{\n\"a\":\n", "lines.json");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
  CHECK(json_has_top_key(R"({"ring": {}})", "ring"));
  CHECK_FALSE(json_has_top_key(R"({"rings": {}})", "ring"));
  CHECK_FALSE(json_has_top_key("not json", "ring"));
}
