#include <doctest/doctest.h>

#include "util/output.hpp"

using namespace attnlab;

TEST_CASE("Table aligns text and keeps raw values for CSV") {
  Table t({{"algo", false}, {"bytes"}});
  t.add_row({cell("naive"), cell_bytes(u128{3} << 30)});
  t.add_row({cell("flash2"), cell_bytes(1536)});
  CHECK(t.to_text() == "algo       bytes\n------  --------\nnaive   3.00 GiB\nflash2  1.50 KiB\n");
  CHECK(t.to_csv() == "algo,bytes\nnaive,3221225472\nflash2,1536\n");
}

TEST_CASE("CSV escapes commas and quotes") {
  CHECK(csv_escape("a,b") == "\"a,b\"");
  CHECK(csv_escape("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_escape("plain") == "plain");
}

TEST_CASE("JsonWriter writes exact 128-bit integers and nested scopes") {
  JsonWriter w;
  w.begin_object().field("big", u128{1} << 68).field("name", "a\"b").key("list").begin_array();
  w.value(1).value(2.5).null();
  w.end_array().key("empty").begin_object().end_object().end_object();
  CHECK(w.str() ==
        "{\n  \"big\": 295147905179352825856,\n  \"name\": \"a\\\"b\",\n  \"list\": [\n    1,\n    2.5,\n"
        "    null\n  ],\n  \"empty\": {}\n}\n");
}

TEST_CASE("--format is parsed strictly") {
  CHECK(parse_output_format("json") == OutputFormat::json);
  CHECK(parse_output_format("csv") == OutputFormat::csv);
  CHECK_THROWS_WITH(parse_output_format("xml"), "--format must be table, json or csv (got 'xml')");
}
