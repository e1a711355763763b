#include <doctest/doctest.h>

#include <cmath>

#include "lessons/templates.hpp"
#include "measure/measurement.hpp"
#include "util/errors.hpp"

using namespace attnlab;

namespace {
std::string eval(const std::string& call) { return template_eval(call, "t.md", 3).text(); }
double num(const std::string& call) { return template_eval(call, "t.md", 3).value.number; }
}  // namespace

TEST_CASE("template values come from the core library") {
  SUBCASE("gpu presets") {
    CHECK(eval("gpu name=h100-sxm field=sms") == "132");
    CHECK(eval("gpu name=h100-sxm field=l2") == "50.0 MiB");
    CHECK(eval("gpu name=h100-sxm field=hbm_bw") == "3.35 TB/s");
    CHECK(eval("gpu name=h100-sxm field=memory as=bytes_si") == "80.0 GB");
    // 132 SMs x 228 KiB = 30,096 KiB
    CHECK(template_eval("gpu field=sram_total", "t.md", 1).value.exact == u128{132} * 228 * 1024);
    // 989.4 TFLOP/s / 3.35 TB/s = 295.3 FLOP/B
    CHECK(num("gpu field=ridge") == doctest::Approx(989.4e12 / 3.35e12));
    CHECK(num("gpu name=a100-40gb field=peak_flops dtype=fp32") == doctest::Approx(19.5e12));
  }
  SUBCASE("score matrix: N^2 entries, 2 bytes each in fp16") {
    CHECK(eval("scores n=100000 field=entries") == "10,000,000,000");
    CHECK(template_eval("scores n=131072 field=bytes_fp16", "t.md", 1).value.exact == u128{131072} * 131072 * 2);
    CHECK(eval("scores n=131072 field=bytes_fp16") == "32.0 GiB");
    // 4 * N^2 * d = 4 * 1e10 * 64
    CHECK(num("scores n=100000 d=64 field=flops") == doctest::Approx(2.56e12));
  }
  SUBCASE("KV cache: 2 x layers x kv_heads x head_dim x bytes per token") {
    // Llama 2 7B: 2 * 32 * 32 * 128 * 2 = 524,288 bytes per token
    CHECK(template_eval("kv model=llama-2-7b field=per_token", "t.md", 1).value.exact == u128{524288});
    CHECK(eval("kv model=llama-2-7b seq=4096 field=total") == "2.00 GiB");
    // Llama 2 70B, GQA with 8 KV heads: 2 * 80 * 8 * 128 * 2 = 327,680
    CHECK(template_eval("kv model=llama-2-70b field=per_token", "t.md", 1).value.exact == u128{327680});
    // ... and as MHA (64 KV heads) 8x more
    CHECK(template_eval("kv model=llama-2-70b attn=mha field=per_token", "t.md", 1).value.exact == u128{327680} * 8);
    // DeepSeek-V2's MLA: 512 latent + 64 RoPE values per token and layer
    CHECK(template_eval("kv model=deepseek-v2 field=elems_per_token_layer", "t.md", 1).value.exact == u128{576});
  }
  SUBCASE("traffic: the simulator's counts") {
    // naive S and P: written once and read once each, 16 heads of 4096^2 fp16 values
    CHECK(template_eval("traffic algo=naive seq=4096 d=128 heads=16 field=scores_bytes", "t.md", 1).value.exact ==
          u128{2} * 2 * 16 * 4096 * 4096 * 2);
    CHECK(template_eval("traffic algo=flash2 field=scores_bytes", "t.md", 1).value.exact == u128{0});
    // forward FLOPs 4 B H N^2 d
    CHECK(num("traffic algo=flash2 field=flops") == doctest::Approx(4.0 * 16 * 4096.0 * 4096.0 * 128));
    CHECK(eval("traffic algo=flash2 field=smem") == "64.0 KiB");
  }
  SUBCASE("masks, receptive field, scaling, speculative decoding") {
    CHECK(eval("receptive window=4096 layers=32 field=paper") == "131,072");
    // causal window of 3 over 5 tokens: rows see 1, 2, 3, 3, 3 keys
    CHECK(eval("mask pattern=window causal=true n=5 w=3 field=cells") == "12");
    CHECK(eval("steps family=ssm n=100000 field=work") == "100,000");
    // (1 - 0.8^6) / (1 - 0.8) = 3.68928
    CHECK(num("specdec alpha=0.8 gamma=5 field=tokens") == doctest::Approx(3.68928));
  }
}

TEST_CASE("template formats") {
  CHECK(eval("scores n=1000 field=entries as=raw") == "1000000");
  CHECK(eval("scores n=1024 field=bytes_fp16 as=raw") == "2097152");
  CHECK(eval("scores n=1024 field=bytes_fp16") == "2.00 MiB");
  CHECK(eval("mask pattern=window causal=true n=4 w=2 field=fraction as=percent") == "43.8%");  // 7 / 16
  CHECK(eval("mask pattern=window causal=true n=4 w=2 field=fraction as=percent digits=1") == "43.8%");
  CHECK(eval("mask pattern=window causal=true n=4 w=2 field=fraction digits=4") == "0.4375");
  CHECK(template_format(TemplateValue::of(4.0, ValueUnit::ratio)) == "4.00x");
  CHECK(template_format(TemplateValue::of(0.000661, ValueUnit::seconds)) == "661 µs");
  CHECK(template_format(TemplateValue::of(131072.0, ValueUnit::plain)) == "131,072");
  CHECK(template_format(TemplateValue::of(3.68928, ValueUnit::plain)) == "3.69");
}

TEST_CASE("template expressions") {
  auto expr = [](const std::string& e) { return template_eval_expr(e, "t.md", 9); };
  CHECK(expr("1 + 2 * 3").value.number == 7);
  CHECK(expr("(1 + 2) * 3").value.number == 9);
  CHECK(expr("2 ^ 3 ^ 2").value.number == 512);  // right-associative
  CHECK(expr("-2 ^ 2").value.number == -4);
  CHECK(expr("1e3 / 4").value.number == 250);
  CHECK(expr("{{scores n=20 field=entries}} / {{scores n=10 field=entries}}").value.number == 4);
  CHECK(expr("{{scores n=20 field=entries}} / {{scores n=10 field=entries}} as=ratio").text() == "4.00x");
  SUBCASE("a lone template keeps its unit and exact value") {
    TemplateResult r = expr("{{scores n=1024 field=bytes_fp16}}");
    CHECK(r.text() == "2.00 MiB");
    CHECK(r.value.exact == u128{2097152});
  }
  SUBCASE("nested expressions") { CHECK(expr("{{= 2 * 3}} + 1").value.number == 7); }
  CHECK_THROWS_WITH_AS(expr("1 / 0"), "t.md:9: {{= 1 / 0}}: division by zero", InputError);
  CHECK_THROWS_WITH_AS(expr("1 +"), doctest::Contains("t.md:9:"), InputError);
  CHECK_THROWS_WITH_AS(expr("(1 + 2"), doctest::Contains("missing ')'"), InputError);
  CHECK_THROWS_WITH_AS(expr("2 apples"), doctest::Contains("unexpected 'apples'"), InputError);
}

TEST_CASE("template errors name file, line and the problem") {
  CHECK_THROWS_WITH_AS(template_eval("nosuch a=1", "x.md", 12),
                       doctest::Contains("x.md:12: {{nosuch a=1}}: unknown template 'nosuch' (known: alibi, backward, backward_ncu, fp8_accuracy, fp8_speed, gpu, kv, kvfit, mask, measured, model, paged, receptive, ring, rope, scores, specdec, steps, tiles, traffic)"), InputError);
  CHECK_THROWS_WITH_AS(template_eval("gpu field=sms colour=red", "x.md", 4),
                       doctest::Contains("x.md:4: {{gpu field=sms colour=red}}: unknown key 'colour' for gpu (known: name, dtype, field"),
                       InputError);
  CHECK_THROWS_WITH_AS(template_eval("gpu", "x.md", 4), doctest::Contains("missing field= (fields of gpu: sms,"), InputError);
  CHECK_THROWS_WITH_AS(template_eval("gpu field=colour", "x.md", 4), doctest::Contains("unknown field 'colour' for gpu"),
                       InputError);
  CHECK_THROWS_WITH_AS(template_eval("gpu name=tpu field=sms", "x.md", 4),
                       doctest::Contains("x.md:4: {{gpu name=tpu field=sms}}: --gpu: unknown GPU 'tpu'"), InputError);
  CHECK_THROWS_WITH_AS(template_eval("scores n=0 field=entries", "x.md", 4),
                       doctest::Contains("key 'n' must be between 1 and"), InputError);
  CHECK_THROWS_WITH_AS(template_eval("scores n=ten field=entries", "x.md", 4), doctest::Contains("(got 'ten')"), InputError);
  CHECK_THROWS_WITH_AS(template_eval("scores n=10 n=20 field=entries", "x.md", 4), doctest::Contains("key 'n' given twice"),
                       InputError);
  CHECK_THROWS_WITH_AS(template_eval("scores n=10 field=entries as=fancy", "x.md", 4),
                       doctest::Contains("as must be one of auto, raw"), InputError);
  CHECK_THROWS_WITH_AS(template_eval("scores n field=entries", "x.md", 4), doctest::Contains("expected key=value (got 'n')"),
                       InputError);
  CHECK_THROWS_WITH_AS(template_eval("traffic seq=4096 heads=16 kv_heads=5 field=hbm_bytes", "x.md", 4),
                       doctest::Contains("x.md:4: {{traffic"), InputError);
}

TEST_CASE("template_fill replaces every template and reports its line") {
  std::vector<TemplateUse> uses;
  std::string out = template_fill("a {{scores n=10 field=entries}} b\nc {{scores n=3 field=entries}}\n\\{{kept}}", "f.md", 20, &uses);
  CHECK(out == "a 100 b\nc 9\n{{kept}}");
  REQUIRE(uses.size() == 2);
  CHECK(uses[0].line == 20);
  CHECK(uses[1].line == 21);
  CHECK(uses[1].call == "scores n=3 field=entries");
  CHECK_THROWS_WITH_AS(template_fill("ok\nbad {{scores n=3", "f.md", 5), doctest::Contains("f.md:6: '{{' is never closed"),
                       InputError);
  CHECK_THROWS_WITH_AS(template_fill("x\n{{}}", "f.md", 5), doctest::Contains("f.md:6: {{}}: empty template"), InputError);
}

TEST_CASE("every registered template documents itself and its example resolves to a number") {
  const auto& reg = template_registry();
  REQUIRE(reg.size() >= 10);
  for (const auto& d : reg) {
    CAPTURE(d.name);
    CHECK(!d.help.empty());
    CHECK(!d.source.empty());
    CHECK(d.example.rfind(d.name + " ", 0) == 0);
    TemplateResult r = template_eval(d.example, "registry", 1);
    CHECK(std::isfinite(r.value.number));
    // Every field of every template answers with the template's defaults plus the example's keys.
    for (const auto& f : d.fields) {
      CAPTURE(f.name);
      std::string call = d.example;
      size_t at = call.find(" field=");
      if (at != std::string::npos) call = call.substr(0, at) + call.substr(call.find(' ', at + 1) == std::string::npos ? call.size() : call.find(' ', at + 1));
      CHECK_NOTHROW(template_eval(call + " field=" + f.name, "registry", 1));
    }
  }
}

TEST_CASE("measured: a run read from the measurement files, never typed") {
  // The same run through the measurement reader: the template must pick the non-causal B8 H16 N4096
  // d128 bf16 run of the kernel asked for, not any other configuration in the file.
  const Measurements m = measurement_load(measurement_dir() / "h100-ladder.json");
  const MeasuredRun* flash = nullptr;
  for (const MeasuredRun& r : m.references)
    if (r.kernel == "torch-flash" && r.config.batch == 8 && r.config.heads == 16 && r.config.seq_q == 4096 &&
        r.config.head_dim == 128 && !r.config.causal)
      flash = &r;
  REQUIRE(flash != nullptr);
  CHECK(num("measured kernel=torch-flash field=tflops") == doctest::Approx(flash->tflops * 1e12));
  CHECK(num("measured kernel=torch-flash field=time") == doctest::Approx(flash->time.median_ms * 1e-3));
  // tflops is 4 B H N^2 d / median time (assets/measurements/README.md): the file agrees with itself.
  CHECK(num("measured kernel=torch-flash field=tflops") ==
        doctest::Approx(4.0 * 8 * 16 * 4096.0 * 4096.0 * 128 / num("measured kernel=torch-flash field=time")).epsilon(1e-3));
  // A causal run is a different run: half the FLOPs counted.
  CHECK(num("measured kernel=attn-mma causal=true field=time") != num("measured kernel=attn-mma field=time"));
  CHECK_THROWS_WITH_AS(template_eval("measured kernel=attn-warp9 field=tflops", "x.md", 7),
                       doctest::Contains("x.md:7: {{measured kernel=attn-warp9 field=tflops}}: h100-ladder.json has no run of "
                                         "kernel 'attn-warp9' with batch=8 heads=16"),
                       InputError);
  CHECK_THROWS_WITH_AS(template_eval("measured kernel=torch-flash seq=12345 field=tflops", "x.md", 7),
                       doctest::Contains("(kernels in the file: attn-naive,"), InputError);
  CHECK_THROWS_WITH_AS(template_eval("measured file=a100-ladder field=tflops", "x.md", 7),
                       doctest::Contains("key 'file': no measurement file 'a100-ladder'"), InputError);
  CHECK_THROWS_WITH_AS(template_eval("measured file=../x field=tflops", "x.md", 7),
                       doctest::Contains("key 'file' must name a file of"), InputError);
}

TEST_CASE("paged: the serving simulation of attnlab paged") {
  // 12 GiB / 819,200 bytes per token of Llama 2 13B = 15,728.64 -> 15,728 slots
  CHECK(template_eval("paged field=budget", "t.md", 1).value.exact == u128{15728});
  // Llama 2 7B: 12 GiB / 524,288 = 24,576 slots exactly
  CHECK(template_eval("paged model=llama-2-7b field=budget", "t.md", 1).value.exact == u128{24576});
  SUBCASE("the shares of every scheme add up to the memory") {
    for (const char* scheme : {"max", "pow2", "oracle", "paged"}) {
      CAPTURE(scheme);
      const std::string p = std::string("paged requests=100 scheme=") + scheme;
      double sum = num(p + " field=used") + num(p + " field=reserved") + num(p + " field=internal") +
                   num(p + " field=external");
      CHECK(sum <= 1.0 + 1e-12);
      CHECK(sum > 0.9);  // under load, little memory is simply free
      // The free share is the rest: the five columns of chapter 7's table add to the memory.
      CHECK(sum + num(p + " field=free") == doctest::Approx(1.0));
      CHECK(num(p + " field=free") >= 0.0);
    }
  }
  SUBCASE("the paper's shape: tens of percent wasted when reserving the maximum, a few percent paged") {
    CHECK(num("paged scheme=max field=waste") > 0.5);
    CHECK(num("paged scheme=paged field=waste") < 0.04);
    CHECK(num("paged scheme=max field=internal") > 0.2);  // reserving 2048 for ~500-token sequences
    // paged internal waste is only the tail of a last block past the final length: under one block
    // (16 slots) per running sequence of ~500 tokens
    CHECK(num("paged field=internal") < 0.02);
    CHECK(num("paged field=avg_batch") > 2 * num("paged scheme=max field=avg_batch"));
  }
  SUBCASE("prompt sharing in parallel sampling saves blocks, and saves none without it") {
    CHECK(num("paged workload=alpaca requests=200 samples=4 field=sharing_saving") > 0.01);
    CHECK(num("paged workload=alpaca requests=200 samples=4 share=false field=sharing_saving") == 0);
    CHECK(num("paged workload=alpaca requests=200 field=sharing_saving") == 0);
  }
  CHECK_THROWS_WITH_AS(template_eval("paged scheme=buddy field=waste", "x.md", 3),
                       doctest::Contains("key 'scheme' must be paged, max, pow2 or oracle (got 'buddy')"), InputError);
  CHECK_THROWS_WITH_AS(template_eval("paged block=0 field=waste", "x.md", 3), doctest::Contains("key 'block' must be"),
                       InputError);
  CHECK_THROWS_WITH_AS(template_eval("paged workload=dolly field=waste", "x.md", 3),
                       doctest::Contains("unknown workload 'dolly'"), InputError);
}

TEST_CASE("tiles: the masked tile grid chapter 8's Flex example counts") {
  // N = 4096, 128 x 128 tiles: a 32 x 32 grid. A causal window of 1,024 keys: query tile t visits
  // tiles t-8 .. t (the oldest straddles the window's edge, the newest the diagonal).
  CHECK(template_eval("tiles seq=4096 window=1024 field=total", "t.md", 1).value.exact == u128{1024});
  // visited: 1 + 2 + ... + 8 for the first 8 rows, 9 for the other 24 = 36 + 216 = 252
  CHECK(template_eval("tiles seq=4096 window=1024 field=visited", "t.md", 1).value.exact == u128{252});
  CHECK(template_eval("tiles seq=4096 window=1024 field=skipped", "t.md", 1).value.exact == u128{772});
  // straddling: 32 diagonal tiles + 24 window-edge tiles (rows 8 .. 31)
  CHECK(template_eval("tiles seq=4096 window=1024 field=masked", "t.md", 1).value.exact == u128{56});
  // no window: plain causal, the upper triangle 32 * 31 / 2 = 496 tiles is skipped
  CHECK(template_eval("tiles seq=4096 field=skipped", "t.md", 1).value.exact == u128{496});
  CHECK(num("tiles seq=16384 window=1024 field=skipped_fraction") == doctest::Approx(1.0 - 1116.0 / 16384.0));
  // FLOPs, the simulator's count: plain causal at half (the papers' 2·H·N²·d); a window counts its
  // visible pairs exactly, 4 d per pair, 16 heads.
  CHECK(template_eval("tiles seq=4096 field=flops", "t.md", 1).value.exact == u128{2} * 16 * 4096 * 4096 * 128);
  const u128 pairs = template_eval("tiles seq=4096 window=1024 field=pairs", "t.md", 1).value.exact.value();
  CHECK(pairs == u128{1024} * 1025 / 2 + u128{4096 - 1024} * 1024);  // the first 1,024 rows see 1..1,024 keys
  CHECK(template_eval("tiles seq=4096 window=1024 field=flops", "t.md", 1).value.exact == u128{4} * 128 * pairs * 16);
  CHECK_THROWS_AS(template_eval("tiles seq=0 field=total", "t.md", 1), InputError);
}
