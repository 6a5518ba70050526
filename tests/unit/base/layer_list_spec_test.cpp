// Layer-list model specs: the compact text, the JSON model file, shorthands, canonical text,
// the example models' parameter counts, and refusals that name the layer and the shape.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "edgefl/base/json_value.hpp"
#include "edgefl/base/model_spec.hpp"

using namespace edgefl;

namespace {

std::string read_example(const char* name) {
  std::ifstream in(std::string(EDGEFL_SOURCE_DIR) + "/examples/models/" + name);
  REQUIRE_MESSAGE(in.good(), name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const char* const kSmallCnn =
    "in:28x28x1 conv3x3x8 relu maxpool2 conv3x3x16 relu maxpool2 flatten dense10 loss:xent";

}  // namespace

TEST_CASE("layer list: the small CNN has 9,098 parameters in OHWI order and canonical text") {
  auto spec = ModelSpec::parse(kSmallCnn);
  REQUIRE_MESSAGE(spec.ok(), spec.status().to_string());
  CHECK(spec->kind == ModelKind::layers);
  CHECK(spec->parameter_count() == 9098);
  CHECK(spec->input_size() == 784);
  CHECK(spec->output_size() == 10);
  CHECK(spec->to_string() == kSmallCnn);
  auto g = spec->geometry();
  REQUIRE(g.size() == 8);
  CHECK(g[2].out == Shape{14, 14, 8});
  CHECK(g[5].out == Shape{7, 7, 16});
  CHECK(g[6].out == Shape{1, 1, 784});
  REQUIRE(g[3].params.size() == 2);
  CHECK(g[3].params[0].name == "weights");
  CHECK(g[3].params[0].offset == 80);  // after conv 1's 72 weights and 8 biases
  CHECK(g[3].params[0].shape == std::vector<std::size_t>{16, 3, 3, 8});
  CHECK(g[3].params[1].offset == 80 + 1152);
  CHECK(g[7].params[0].shape == std::vector<std::size_t>{10, 784});
  CHECK(spec->dense_layouts().size() == 1);
  CHECK(spec->dense_layouts()[0].weight_offset == 80 + 1152 + 16);
}

TEST_CASE("layer list: options, defaults and round trips through text and JSON") {
  const char* texts[] = {
      kSmallCnn,
      "in:49x10x1 conv10x4x64,s2 relu dwconv3x3 relu6 conv1x1x64,nobias relu dropout0.2 gap dense12 loss:xent",
      "in:1x128x6 conv1d5x16 relu maxpool1x2 conv1d5x32,s2,d2,valid relu gap dense6 loss:xent",
      "in:9x9x3 avgpool3,s2,same maxpool2x1,s1 flatten dense1 loss:logistic init:zeros",
      "in:1x1x5 dense3 relu dense1,nobias loss:squared",
  };
  for (const char* text : texts) {
    INFO(std::string(text));
    auto spec = ModelSpec::parse(text);
    REQUIRE_MESSAGE(spec.ok(), spec.status().to_string());
    CHECK(spec->to_string() == text);
    auto json = ModelSpec::from_json(spec->to_json());
    REQUIRE_MESSAGE(json.ok(), json.status().to_string());
    CHECK(*json == *spec);
  }
  // Defaults are left out of the canonical text.
  CHECK(ModelSpec::parse("in:8x8x2 conv3x3x4,s1,d1,same maxpool2,s2,valid flatten dense2")->to_string() ==
        "in:8x8x2 conv3x3x4 maxpool2 flatten dense2 loss:xent");
  CHECK(ModelSpec::parse("in:1x1x6 dense4 relu dense3 loss:xent")->to_string() == "mlp:6-4-3:relu");
  CHECK(ModelSpec::parse("in:6 dense1,nobias loss:logistic init:zeros")->to_string() == "linear:6-1:logistic");
  CHECK(*ModelSpec::parse("mlp:6-4-3") == *ModelSpec::parse("in:6 dense4 relu dense3"));
}

TEST_CASE("shorthands map onto layer lists with the same layout and init") {
  auto mlp = ModelSpec::parse("mlp:784-256-128-10:relu");
  REQUIRE(mlp.ok());
  CHECK(mlp->kind == ModelKind::mlp);
  REQUIRE(mlp->layers.size() == 5);
  CHECK(mlp->layers[1].kind == LayerKind::relu);
  CHECK(mlp->init == InitKind::he_uniform);
  CHECK(mlp->to_json().find("\"units\":256") != std::string::npos);
  auto linear = ModelSpec::parse("linear:50-1:logistic");
  REQUIRE(linear.ok());
  CHECK(linear->kind == ModelKind::linear);
  CHECK(linear->init == InitKind::zeros);
  CHECK(!linear->layers[0].bias);
  CHECK(*ModelSpec::from_json(linear->to_json()) == *linear);
}

TEST_CASE("example model files have the parameter counts of their papers") {
  struct Example {
    const char* file;
    std::size_t parameters;
  };
  for (Example e : {Example{"small_cnn_28x28.json", 9098}, Example{"fedavg_cnn_28x28.json", 1663370},
                    Example{"ds_cnn_49x10.json", 13004}, Example{"sensor_cnn1d_128x6.json", 3286}}) {
    INFO(std::string(e.file));
    auto spec = ModelSpec::from_json(read_example(e.file));
    REQUIRE_MESSAGE(spec.ok(), spec.status().to_string());
    CHECK(spec->parameter_count() == e.parameters);
    CHECK(*ModelSpec::parse(spec->to_string()) == *spec);
  }
  CHECK(ModelSpec::from_json(read_example("small_cnn_28x28.json"))->to_string() == kSmallCnn);
}

TEST_CASE("bad layer lists are refused naming the layer and the shape that does not fit") {
  struct Case {
    const char* text;
    const char* fragment;
  };
  const Case cases[] = {
      {"in:3x3x8 conv5x5x4,s2,valid flatten dense2",
       "layer 0 (conv2d 5x5, 4 filters, stride 2, padding valid): input 3x3x8 is smaller than the kernel"},
      {"in:5x5x1 conv3x3x2,d3,valid flatten dense2", "input 5x5x1 is smaller than the dilated kernel"},
      {"in:4x4x2 dense3", "layer 0 (dense 3): input 4x4x2 is not flat: put flatten or gap before a dense layer"},
      {"in:4x4x2 conv3x3x3", "the output 4x4x3 is not flat"},
      {"in:4x4x2 conv1d3x3 flatten dense2", "is not a 1xWxC window"},
      {"in:8x8x1 conv3x3x4 batchnorm relu", "running statistics differ across non-IID devices"},
      {"in:8x8x1 conv3x3x4 flatten dense2 loss:hinge", "unknown loss 'hinge'"},
      {"in:8x8x1 conv3x3x4 flatten dense2 loss:squared", "squared loss needs 1 output"},
      {"in:8x8x1 conv3x3 flatten dense2", "expected sizes like conv3x3x16"},
      {"in:8x8x1 conv3x3x4,s0 flatten dense2", "option 's0'"},
      {"in:8x8x1 conv3x3x4,q flatten dense2", "unknown option 'q'"},
      {"in:8x8x1 tanh flatten dense2", "unknown layer"},
      {"in:8x8x1 dropout1.5 flatten dense2", "dropout rate"},
      {"in:8x8 flatten dense2", "is not HxWxC or D"},
      {"in:8x8x1 loss:xent flatten dense2", "after loss: or init:"},
      {"in:8x8x1 flatten dense2 init:glorot", "unknown init 'glorot'"},
      {"in:1024x1024x1 conv3x3x2 flatten dense2", "values"},
      {"in:64x64x4 flatten dense65536", "more than 268435456 parameters"},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.text));
    auto spec = ModelSpec::parse(c.text);
    REQUIRE_FALSE(spec.ok());
    CHECK(spec.status().code() == StatusCode::invalid_argument);
    CAPTURE(spec.status().message());
    CHECK(spec.status().message().find(c.fragment) != std::string::npos);
  }
  std::string many = "in:4";
  for (int i = 0; i < 65; ++i) many += " relu";
  CHECK(ModelSpec::parse(many + " dense2").status().message().find("more than 64 layers") != std::string::npos);
}

TEST_CASE("model files: strict JSON and clear refusals") {
  struct Case {
    const char* json;
    const char* fragment;
  };
  const Case cases[] = {
      {R"({"input":[4,4,1],"layers":[{"type":"flatten"},{"type":"dense","units":2}],})", "expected a quoted key"},
      {R"({"input":[4,4,1],"input":[2]})", "no duplicate key 'input'"},
      {R"({"input":[4,4,1],"layers":[{"type":"batch_norm"}]})", "fold it into the convolution"},
      {R"({"input":[4,4,1],"layers":[{"type":"conv2d","filters":2}]})", "layer 0 (conv2d) needs \"kernel\""},
      {R"({"input":[4,4,1],"layers":[{"type":"conv2d","filters":2,"kernel":[3,3],"filter":3}]})",
       "layer 0 (conv2d): unknown key \"filter\""},
      {R"({"input":[4,4,1],"layers":[{"type":"conv2d","filters":2.5,"kernel":3}]})", "must be an integer"},
      {R"({"input":[4,4,1],"layers":[{"type":"conv2d","filters":2,"kernel":3,"padding":"full"}]})",
       "must be \"same\" or \"valid\""},
      {R"({"input":[4,4,1],"layers":[{"type":"flatten"},{"type":"dense","units":2}],"optimizer":"sgd"})",
       "unknown key \"optimizer\""},
      {R"({"input":[4,4,1],"layers":[{"type":"conv2d","filters":2,"kernel":5,"padding":"valid"},{"type":"flatten"},{"type":"dense","units":2}]})",
       "input 4x4x1 is smaller than the kernel"},
      {R"([1,2])", "the document must be an object"},
      {R"({"input":[4,4,1],"layers":[]} x)", "expected end of document"},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.json));
    auto spec = ModelSpec::from_json(c.json);
    REQUIRE_FALSE(spec.ok());
    CAPTURE(spec.status().message());
    CHECK(spec.status().message().find(c.fragment) != std::string::npos);
  }
  auto doc = parse_json(R"({"a":[1,-2.5e3,true,false,null,"x\n\u0041"]})");
  REQUIRE(doc.ok());
  const JsonValue* a = doc->find("a");
  REQUIRE(a != nullptr);
  REQUIRE(a->items.size() == 6);
  CHECK(a->items[1].number == -2500.0);
  CHECK(a->items[2].boolean);
  CHECK(!a->items[3].boolean);
  CHECK(a->items[5].string == "x\nA");
  for (const char* bad : {"01", "1.", "[1,]", "{\"a\"}", "\"\\x\"", "tru", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"}) {
    INFO(std::string(bad));
    CHECK(!parse_json(bad).ok());
  }
}
